#include "pool.hpp"

#include <algorithm>
#include <utility>

#include "engine_stats.hpp"

namespace tofu::detail {

namespace {
// A pooled message keeps at most this much buffer capacity, so one large message does not pin
// 64 KiB per pool slot forever (the original kept grown buffers).
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
            MessageLinks::next(*m) = free_;  // pooled messages hold no reference to the pool
            free_ = m;
            // The initial messages get the original's capacities now, so steady state starts at once;
            // messages made later (AllocationStrategy::always) reserve at their first write.
            m->thdrs.buffer.reserve(TextHeaders::tlen);
            m->body.reserve(Message::blen);
        }
    } catch (...) {
        freeChain(free_);
        throw AmpeError(AmpeStatus::allocation_failed);
    }
    pooled_.store(initialMsgs_, std::memory_order_relaxed);
    if constexpr (TrafficStats) {
        high_.store(initialMsgs_, std::memory_order_relaxed);
    }
}

PoolCore::~PoolCore() {
    freeChain(free_);
    freeChain(returned_.exchange(nullptr, std::memory_order_acquire));
}

void PoolCore::freeChain(Message* m) noexcept {
    while (m != nullptr) {
        Message* next = MessageLinks::next(*m);
        Message::destroy(m);
        m = next;
    }
}

Message* PoolCore::popLocked() noexcept {
    if (free_ == nullptr) {
        free_ = returned_.exchange(nullptr, std::memory_order_acquire);
    }
    Message* m = free_;
    if (m != nullptr) {
        free_ = MessageLinks::next(*m);
        MessageLinks::next(*m) = nullptr;
        pooled_.fetch_sub(1, std::memory_order_relaxed);
        m->home_ = this;
    }
    return m;
}

Message* PoolCore::wantLocked() noexcept {
    // Either this getter sees a message put back meanwhile, or that put sees wanted_ and alerts (seq_cst
    // on both sides).
    wanted_.store(true, std::memory_order_seq_cst);
    if (returned_.load(std::memory_order_seq_cst) == nullptr) {
        return nullptr;
    }
    wanted_.store(false, std::memory_order_relaxed);
    return popLocked();
}

Message* PoolCore::get(AllocationStrategy strategy) {
    {
        std::lock_guard lock(mutex_);
        if (closed_.load(std::memory_order_acquire)) {
            throw AmpeError(AmpeStatus::not_allowed);  // the original's closed Pool refuses with NotAllowed
        }
        Message* m = popLocked();  // kept reset since put(): nothing to clear here
        if (m == nullptr && strategy == AllocationStrategy::poolOnly) {
            m = wantLocked();
            if (m == nullptr) {
                return nullptr;
            }
        }
        if (m != nullptr) {
            refs_.fetch_add(1, std::memory_order_relaxed);  // under the mutex: close() cannot pass it
            return m;
        }
    }
    allocated_.fetch_add(1, std::memory_order_relaxed);  // several getters: a read-modify-write
    return make();
}

Message* PoolCore::make() {
    Message* m = nullptr;
    try {
        m = Message::allocate(mr_);
    } catch (...) {
        throw AmpeError(AmpeStatus::allocation_failed);
    }
    refs_.fetch_add(1, std::memory_order_relaxed);  // the caller holds one already (engine or message)
    m->home_ = this;
    return m;
}

std::size_t PoolCore::admit(std::size_t n) noexcept {
    if (closed_.load(std::memory_order_acquire)) {
        return 0;
    }
    const std::size_t before = pooled_.fetch_add(n, std::memory_order_relaxed);
    const std::size_t room = before >= maxMsgs_ ? 0 : std::min<std::size_t>(n, maxMsgs_ - before);
    if (room < n) {
        pooled_.fetch_sub(n - room, std::memory_order_relaxed);
    }
    if constexpr (TrafficStats) {
        // Many putters: a compare-and-swap, only when the mark is passed.
        const std::size_t now = before + room;
        std::size_t high = high_.load(std::memory_order_relaxed);
        while (now > high && !high_.compare_exchange_weak(high, now, std::memory_order_relaxed)) {
        }
    }
    return room;
}

void PoolCore::giveBack(Message* first, Message* last) noexcept {
    Message* old = returned_.load(std::memory_order_relaxed);
    do {
        MessageLinks::next(*last) = old;
    } while (
        !returned_.compare_exchange_weak(old, first, std::memory_order_seq_cst, std::memory_order_relaxed));
    if (wanted_.load(std::memory_order_seq_cst) && wanted_.exchange(false, std::memory_order_acq_rel)) {
        std::lock_guard lock(mutex_);
        if (alerter_) {
            alerter_();
        }
    }
}

void PoolCore::put(Message* msg) noexcept {
    if (msg == nullptr) {
        return;
    }
    // Its reference (to this pool, another one's, or none: Ampe::put adopts any message) is dropped last:
    // it may be the last one to this pool.
    PoolCore* const home = std::exchange(msg->home_, nullptr);
    if (admit(1) == 0) {
        Message::destroy(msg);
    } else {
        msg->reset();
        shrinkBuffers(*msg);
        giveBack(msg, msg);
    }
    if (home != nullptr) {
        home->release(1);  // nothing of this object is touched after
    }
}

std::size_t PoolCore::getBatch(IntrusiveQueue<Message>& out, std::size_t n) {
    std::size_t got = 0;
    std::lock_guard lock(mutex_);
    if (closed_.load(std::memory_order_acquire)) {
        throw AmpeError(AmpeStatus::not_allowed);
    }
    for (; got < n; ++got) {
        Message* m = popLocked();
        if (m == nullptr) {
            break;
        }
        out.enqueue(m);
    }
    if (got == 0) {
        if (Message* m = wantLocked()) {
            out.enqueue(m);
            got = 1;
        }
    }
    refs_.fetch_add(got, std::memory_order_relaxed);  // one atomic operation for the batch
    return got;
}

void PoolCore::putAll(IntrusiveQueue<Message>& q) noexcept {
    if (q.empty()) {
        return;
    }
    const std::size_t n = q.count();
    std::size_t keep = admit(n);
    Message* first = nullptr;
    Message* last = nullptr;
    while (Message* m = q.dequeue()) {
        m->home_ = nullptr;  // the references go together below
        if (keep == 0) {
            Message::destroy(m);
            continue;
        }
        --keep;
        m->reset();
        shrinkBuffers(*m);
        MessageLinks::next(*m) = first;
        first = m;
        if (last == nullptr) {
            last = m;
        }
    }
    if (first != nullptr) {
        giveBack(first, last);
    }
    release(n);  // never the last: the caller holds a reference too
}

void PoolCore::release(std::size_t n) noexcept {
    if (refs_.fetch_sub(n, std::memory_order_acq_rel) == n) {
        std::unique_ptr<PoolCore> last(this);  // the intrusive count's owner: frees the core here
    }
}

void PoolCore::close() noexcept {
    std::lock_guard lock(mutex_);
    closed_.store(true, std::memory_order_seq_cst);
    freeChain(free_);
    free_ = nullptr;
    freeChain(returned_.exchange(nullptr, std::memory_order_acquire));
    pooled_.store(0,
                  std::memory_order_relaxed);  // a put racing the close may still push: freed with the pool
}

void PoolCore::setAlerter(std::function<void()> alerter) {
    std::lock_guard lock(mutex_);
    alerter_ = std::move(alerter);
}

std::uint16_t PoolCore::count() const noexcept {
    return static_cast<std::uint16_t>(std::min<std::size_t>(pooled_.load(std::memory_order_relaxed), 0xFFFF));
}

Pool::Pool(std::uint16_t initialMsgs, std::uint16_t maxMsgs, std::pmr::memory_resource* mr)
    : core_(std::make_unique<PoolCore>(PoolCore::Key{}, mr, initialMsgs, maxMsgs).release()) {}

Pool::~Pool() {
    core_->close();
    core_->release(1);
}

}  // namespace tofu::detail
