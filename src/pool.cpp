#include "pool.hpp"

#include <algorithm>
#include <mutex>
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
            MessageLinks::next(*m) = free_;
            free_ = m;
            // The initial messages get the original's capacities now, so steady state starts at once;
            // messages made later (AllocationStrategy::always) reserve at their first write.
            m->thdrs.buffer.reserve(TextHeaders::tlen);
            m->body.reserve(Message::blen);
        }
    } catch (...) {
        (void)freeChain(free_);
        throw AmpeError(AmpeStatus::allocation_failed);
    }
    for (Message* m = free_; m != nullptr; m = MessageLinks::next(*m)) {
        m->home_ = this;  // once the core cannot fail: each holds a reference from now on
    }
    refs_.store(std::size_t{1} + initialMsgs_, std::memory_order_relaxed);
    given_.store(initialMsgs_, std::memory_order_relaxed);
    if constexpr (TrafficStats) {
        high_.store(initialMsgs_, std::memory_order_relaxed);
    }
}

PoolCore::~PoolCore() {
    // Empty by now: each pooled message holds a reference, and close() freed them.
    (void)freeChain(free_);
    (void)freeChain(returned_.exchange(nullptr, std::memory_order_acquire));
}

std::size_t PoolCore::freeChain(Message* m) noexcept {
    if (m == closedMark() || m == wantedMark()) {
        return 0;
    }
    std::size_t n = 0;
    while (m != nullptr) {
        Message* next = MessageLinks::next(*m);
        m->home_ = nullptr;  // the caller drops the references together
        Message::destroy(m);
        m = next;
        ++n;
    }
    return n;
}

std::size_t PoolCore::pooledNow() const noexcept {
    if (closed_.load(std::memory_order_relaxed)) {
        return 0;
    }
    // Given first: takes after it only lower the difference (a snapshot that may be a little low, never
    // above what was pooled when given was read; puts after it would count cycles that came and went).
    // Admitted puts still on their way to the stack count already.
    const std::size_t given = given_.load(std::memory_order_acquire);
    const std::size_t taken = taken_.load(std::memory_order_acquire);
    return given > taken ? given - taken : 0;
}

Message* PoolCore::popLocked() noexcept {
    if (free_ == nullptr) {
        // Never closedMark here (close() holds the lock), and only a getter sets wantedMark: a chain seen
        // stays a chain until taken.
        const Message* head = returned_.load(std::memory_order_relaxed);
        if (head == nullptr || head == wantedMark()) {
            return nullptr;
        }
        free_ = returned_.exchange(nullptr, std::memory_order_acquire);
    }
    Message* m = free_;
    if (m != nullptr) {
        free_ = MessageLinks::next(*m);
        MessageLinks::next(*m) = nullptr;
    }
    return m;
}

Message* PoolCore::wantLocked() noexcept {
    // The mark and the puts meet on one word: either this getter finds what was put back meanwhile, or the
    // next put replaces the mark and alerts.
    Message* head = nullptr;
    if (returned_.compare_exchange_strong(head, wantedMark(), std::memory_order_acq_rel,
                                          std::memory_order_relaxed) ||
        head == wantedMark()) {
        return nullptr;
    }
    return popLocked();
}

Message* PoolCore::get(AllocationStrategy strategy) {
    {
        std::lock_guard lock(lock_);
        if (closed_.load(std::memory_order_acquire)) {
            throw AmpeError(AmpeStatus::not_allowed);  // the original's closed Pool refuses with NotAllowed
        }
        Message* m = popLocked();  // kept reset since put(): nothing to clear here
        if (m == nullptr && strategy == AllocationStrategy::poolOnly) {
            m = wantLocked();
        }
        if (m != nullptr) {
            tookLocked(1);
            return m;
        }
        if (strategy == AllocationStrategy::poolOnly) {
            return nullptr;
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
    // A compare-and-swap, not an add taken back when over the maximum: a refused put must not count even for
    // a moment. (One descheduled between the two made the put of the message a paused reader waited for look
    // over the maximum; that message was freed, and the reader never resumed.)
    std::size_t given = given_.load(std::memory_order_relaxed);
    std::size_t before = 0;
    std::size_t room = 0;
    bool rechecked = false;
    for (;;) {
        const std::size_t taken = taken_.load(std::memory_order_acquire);
        // Messages of later puts may have been taken already: then fewer were pooled, never below zero.
        before = given > taken ? given - taken : 0;
        room = before >= maxMsgs_ ? 0 : std::min<std::size_t>(n, maxMsgs_ - before);
        if (room == 0) {
            // Full by these counts, but a getter found the stack empty: the taken count read may be older
            // than its mark. Once the mark is seen (acquire), every take before it is too: count once more.
            // Still full means admitted puts are on their way to the stack; the first of them alerts.
            if (rechecked || returned_.load(std::memory_order_acquire) != wantedMark()) {
                break;
            }
            rechecked = true;
            given = given_.load(std::memory_order_relaxed);
            continue;
        }
        if (given_.compare_exchange_weak(given, given + room, std::memory_order_relaxed,
                                         std::memory_order_relaxed)) {
            break;
        }
    }
    if constexpr (TrafficStats) {
        // Many putters: a compare-and-swap, only when the mark is passed.
        const std::size_t now = before + room;
        std::size_t high = high_.load(std::memory_order_relaxed);
        while (room != 0 && now > high &&
               !high_.compare_exchange_weak(high, now, std::memory_order_relaxed)) {
        }
    }
    return room;
}

bool PoolCore::giveBack(Message* first, Message* last) noexcept {
    // Once pushed, the chain's references are the stack's: a close() may free them, and with them the last
    // reference to this core. So after the push only an alert touches the core, under a reference of its
    // own taken while the chain still held theirs.
    Message* old = returned_.load(std::memory_order_relaxed);
    bool ownRef = false;
    for (;;) {
        if (old == closedMark()) {
            if (ownRef) {
                release(1);  // not the last: the chain holds references
            }
            return false;
        }
        if (old == wantedMark() && !ownRef) {
            refs_.fetch_add(1, std::memory_order_relaxed);
            ownRef = true;
        }
        MessageLinks::next(*last) = old == wantedMark() ? nullptr : old;
        if (returned_.compare_exchange_weak(old, first, std::memory_order_release,
                                            std::memory_order_relaxed)) {
            break;
        }
    }
    if (old == wantedMark()) {
        std::lock_guard lock(lock_);
        if (alerter_) {
            alerter_();
        }
    }
    if (ownRef) {
        release(1);  // may be the last: nothing of this object is touched after
    }
    return true;
}

void PoolCore::put(Message* msg) noexcept {
    if (msg == nullptr) {
        return;
    }
    PoolCore* const home = msg->home_;
    if (home == this) {
        if (admit(1) == 0) {
            Message::destroy(msg);  // drops its reference: maybe the last one
            return;
        }
        msg->reset();
        shrinkBuffers(*msg);
        if (!giveBack(msg, msg)) {
            Message::destroy(msg);  // closed meanwhile
        }
        return;
    }
    // Ampe::put adopts any message: another pool's, or one of no pool. Its old reference goes last: it may
    // be the last one to that pool.
    msg->home_ = nullptr;
    if (admit(1) == 0) {
        Message::destroy(msg);
    } else {
        refs_.fetch_add(1, std::memory_order_relaxed);  // the caller's engine holds the Pool's reference
        msg->home_ = this;
        msg->reset();
        shrinkBuffers(*msg);
        if (!giveBack(msg, msg)) {
            Message::destroy(msg);  // closed meanwhile
        }
    }
    if (home != nullptr) {
        home->release(1);
    }
}

std::size_t PoolCore::getBatch(IntrusiveQueue<Message>& out, std::size_t n) {
    std::size_t got = 0;
    std::lock_guard lock(lock_);
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
    tookLocked(got);
    return got;
}

void PoolCore::putAll(IntrusiveQueue<Message>& q) noexcept {
    if (q.empty()) {
        return;
    }
    std::size_t keep = admit(q.count());
    std::size_t dropped = 0;
    Message* first = nullptr;
    Message* last = nullptr;
    while (Message* m = q.dequeue()) {
        if (keep == 0) {
            m->home_ = nullptr;  // the references go together below
            Message::destroy(m);
            ++dropped;
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
    if (dropped != 0) {
        release(dropped);  // never the last: the caller holds a reference too
    }
    if (first != nullptr && !giveBack(first, last)) {
        release(freeChain(first));  // closed meanwhile; never the last either
    }
}

void PoolCore::release(std::size_t n) noexcept {
    if (refs_.fetch_sub(n, std::memory_order_acq_rel) == n) {
        std::unique_ptr<PoolCore> last(this);  // the intrusive count's owner: frees the core here
    }
}

void PoolCore::close() noexcept {
    std::size_t freed = 0;
    {
        std::lock_guard lock(lock_);
        closed_.store(true, std::memory_order_seq_cst);
        freed = freeChain(free_);
        free_ = nullptr;
        // From now on a put finds the mark and frees its own message.
        freed += freeChain(returned_.exchange(closedMark(), std::memory_order_acquire));
    }
    if (freed != 0) {
        release(freed);  // never the last: the caller (Pool) holds a reference too
    }
}

void PoolCore::setAlerter(std::function<void()> alerter) {
    std::lock_guard lock(lock_);
    alerter_ = std::move(alerter);
}

std::uint16_t PoolCore::count() const noexcept {
    return static_cast<std::uint16_t>(std::min<std::size_t>(pooledNow(), 0xFFFF));
}

Pool::Pool(std::uint16_t initialMsgs, std::uint16_t maxMsgs, std::pmr::memory_resource* mr)
    : core_(std::make_unique<PoolCore>(PoolCore::Key{}, mr, initialMsgs, maxMsgs).release()) {}

Pool::~Pool() {
    core_->close();
    core_->release(1);
}

}  // namespace tofu::detail
