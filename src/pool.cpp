#include "pool.hpp"

namespace tofu::detail {

namespace {
// A pooled message keeps at most this much buffer capacity, so one large message does not pin
// 64 KiB per pool slot forever (the original kept grown buffers: defect 10).
constexpr std::size_t MaxKeptCapacity = std::size_t{16} * 1024;

void shrinkBuffers(Message& m) {
    if (m.body.capacity() > MaxKeptCapacity) {
        m.body.release();
    }
    if (m.thdrs.buffer.capacity() > MaxKeptCapacity) {
        m.thdrs.buffer.release();
    }
}
}  // namespace

PoolCore::PoolCore(Key, std::pmr::memory_resource* mr, std::uint16_t initialMsgs, std::uint16_t maxMsgs)
    : mr_(mr != nullptr ? mr : std::pmr::get_default_resource()),
      initialMsgs_(initialMsgs != 0 ? initialMsgs : DefaultOptions.initialPoolMsgs),
      maxMsgs_(maxMsgs != 0 ? maxMsgs : DefaultOptions.maxPoolMsgs) {
    if (maxMsgs_ < initialMsgs_) {
        maxMsgs_ = initialMsgs_;
    }
    try {
        for (std::uint16_t i = 0; i < initialMsgs_; ++i) {
            Message* m = Message::allocate(mr_);
            free_.pushFront(m);  // pooled messages hold no reference to the pool
            // The initial messages get the original's capacities now, so steady state starts at once;
            // messages made later (AllocationStrategy::always) reserve at their first write.
            m->thdrs.buffer.reserve(TextHeaders::tlen);
            m->body.reserve(Message::blen);
        }
    } catch (...) {
        freeChainLocked();
        throw AmpeError(AmpeStatus::allocation_failed);
    }
}

PoolCore::~PoolCore() {
    freeChainLocked();
}

Message* PoolCore::get(AllocationStrategy strategy) {
    {
        std::lock_guard lock(mutex_);
        if (closed_) {
            throw AmpeError(AmpeStatus::not_allowed);  // the original's closed Pool refuses with NotAllowed
        }
        if (Message* m = free_.dequeue()) {  // kept reset since put(): nothing to clear here
            m->home_ = shared_from_this();
            return m;
        }
        if (strategy == AllocationStrategy::poolOnly) {
            emptyWasReturned_ = true;  // the next put() tells the alerter
            return nullptr;
        }
    }
    return make();
}

Message* PoolCore::make() {
    Message* m = nullptr;
    try {
        m = Message::allocate(mr_);
    } catch (...) {
        throw AmpeError(AmpeStatus::allocation_failed);
    }
    m->home_ = shared_from_this();
    return m;
}

void PoolCore::put(Message* msg) noexcept {
    if (msg == nullptr) {
        return;
    }
    // Dropped after the mutex is released: it may be the last reference to this pool.
    std::shared_ptr<PoolCore> keep = std::move(msg->home_);
    std::lock_guard lock(mutex_);
    if (closed_ || free_.count() >= maxMsgs_) {
        Message::destroy(msg);
        return;
    }
    msg->reset();
    shrinkBuffers(*msg);
    const bool wasEmpty = free_.empty();
    free_.pushFront(msg);
    if (wasEmpty && emptyWasReturned_) {
        emptyWasReturned_ = false;
        if (alerter_) {
            alerter_();
        }
    }
}

std::size_t PoolCore::getBatch(IntrusiveQueue<Message>& out, std::size_t n) {
    std::size_t got = 0;
    std::lock_guard lock(mutex_);
    if (closed_) {
        throw AmpeError(AmpeStatus::not_allowed);
    }
    for (; got < n; ++got) {
        Message* m = free_.dequeue();
        if (m == nullptr) {
            break;
        }
        m->home_ = shared_from_this();
        out.enqueue(m);
    }
    if (got == 0) {
        emptyWasReturned_ = true;
    }
    return got;
}

void PoolCore::putAll(IntrusiveQueue<Message>& q) noexcept {
    if (q.empty()) {
        return;
    }
    std::lock_guard lock(mutex_);
    const bool wasEmpty = free_.empty();
    while (Message* m = q.dequeue()) {
        m->home_.reset();  // not the last reference: the caller holds one
        if (closed_ || free_.count() >= maxMsgs_) {
            Message::destroy(m);
            continue;
        }
        m->reset();
        shrinkBuffers(*m);
        free_.pushFront(m);
    }
    if (wasEmpty && !free_.empty() && emptyWasReturned_) {
        emptyWasReturned_ = false;
        if (alerter_) {
            alerter_();
        }
    }
}

void PoolCore::close() noexcept {
    std::lock_guard lock(mutex_);
    closed_ = true;
    freeChainLocked();
}

void PoolCore::freeChainLocked() noexcept {
    while (Message* m = free_.dequeue()) {
        Message::destroy(m);
    }
}

void PoolCore::setAlerter(std::function<void()> alerter) {
    std::lock_guard lock(mutex_);
    alerter_ = std::move(alerter);
}

std::uint16_t PoolCore::count() const {
    std::lock_guard lock(mutex_);
    return static_cast<std::uint16_t>(free_.count());
}

bool PoolCore::closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
}

Pool::Pool(std::uint16_t initialMsgs, std::uint16_t maxMsgs, std::pmr::memory_resource* mr)
    : core_(std::make_shared<PoolCore>(PoolCore::Key{}, mr, initialMsgs, maxMsgs)) {}

Pool::~Pool() {
    core_->close();
}

}  // namespace tofu::detail
