// The message pool: a thread-safe LIFO of ready messages with initial and maximum sizes.
//
// Putting back is lock-free (one compare-and-swap per message, or per batch): releases on the receiving
// application thread never wait for the reactor, nor the reactor's batched returns for a sending thread.
// Getting takes a short lock, which only getters share; when its own stack is empty it takes everything put
// back so far with one exchange. Getters and putters keep their fields on cache lines of their own. A get
// costs the lock and no other read-modify-write, a put two compare-and-swaps (its count, the stack): the
// count of pooled messages is what was put back minus what was taken, each side keeping its own counter.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <memory_resource>

#include "intrusive_queue.hpp"
#include "short_lock.hpp"
#include "tofu/message.hpp"
#include "tofu/options.hpp"

namespace tofu::detail {

/// Shared by the Pool and by every message of it (Message::home_), so a message released after its engine
/// is gone still finds a live (closed) pool and frees itself. The sharing is an intrusive count: one
/// reference for the Pool, one per message alive, pooled or out. It changes when a message is made or
/// freed, not when one is taken or put back.
class PoolCore {
  public:
    struct Key {};
    PoolCore(Key, std::pmr::memory_resource* mr, std::uint16_t initialMsgs, std::uint16_t maxMsgs);
    ~PoolCore();
    PoolCore(const PoolCore&) = delete;  // messages point at their pool: it never moves
    PoolCore& operator=(const PoolCore&) = delete;
    PoolCore(PoolCore&&) = delete;
    PoolCore& operator=(PoolCore&&) = delete;

    /// A reset message from the pool; when empty: nullptr for poolOnly (and remembers that a
    /// caller went without), a new message for always. Throws AmpeError(not_allowed) once closed
    /// (as the original's Pool), AmpeError(allocation_failed) when allocation fails.
    [[nodiscard]] Message* get(AllocationStrategy strategy);

    /// Takes msg back: reset and kept while under the maximum, freed otherwise or once closed.
    /// When the pool was found empty by a poolOnly get(), the alerter is invoked (under the pool
    /// lock: it must not block nor call into the pool). Lock-free otherwise.
    void put(Message* msg) noexcept;

    /// Up to n messages under one lock, appended to out; returns how many. poolOnly semantics: none
    /// from an empty pool, and the next put() tells the alerter. Throws like get() once closed.
    std::size_t getBatch(IntrusiveQueue<Message>& out, std::size_t n);

    /// Takes back every message of q in one go (q ends empty). Each must belong to this pool (owns()), and
    /// the caller must hold its own reference to this pool meanwhile.
    void putAll(IntrusiveQueue<Message>& q) noexcept;

    /// True when msg returns to this pool when released.
    [[nodiscard]] bool owns(const Message& msg) const noexcept { return msg.home_ == this; }

    /// Frees every pooled message and refuses further get(); later put() frees.
    void close() noexcept;

    /// Drops n references; the last one frees the core.
    void release(std::size_t n) noexcept;

    /// Sets (or clears with an empty function) the freed-memory hook.
    void setAlerter(std::function<void()> alerter);

    /// Messages pooled right now (a snapshot).
    [[nodiscard]] std::uint16_t count() const noexcept;
    /// The most messages pooled at once so far (not kept with TOFU_STATS=OFF: 0).
    [[nodiscard]] std::uint64_t highWater() const noexcept { return high_.load(std::memory_order_relaxed); }
    /// Messages get(always) allocated because the pool was empty.
    [[nodiscard]] std::uint64_t allocated() const noexcept {
        return allocated_.load(std::memory_order_relaxed);
    }
    /// Messages of this pool outside it right now: held by the application, queued in the engine, in
    /// mailboxes (a snapshot).
    [[nodiscard]] std::size_t outstanding() const noexcept {
        const std::size_t alive = refs_.load(std::memory_order_relaxed) - 1;
        const std::size_t pooled = pooledNow();
        return alive > pooled ? alive - pooled : 0;
    }
    [[nodiscard]] std::uint16_t initialMsgs() const noexcept { return initialMsgs_; }
    [[nodiscard]] std::uint16_t maxMsgs() const noexcept { return maxMsgs_; }
    [[nodiscard]] bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }
    [[nodiscard]] std::pmr::memory_resource* resource() const noexcept { return mr_; }

    /// A new message that returns to this pool when released.
    [[nodiscard]] Message* make();

  private:
    /// Admits up to n more messages under the maximum; returns how many.
    [[nodiscard]] std::size_t admit(std::size_t n) noexcept;
    /// Pushes the chain first..last (linked by next) onto the returned stack and tells the alerter if a
    /// getter went without; false once closed (the chain stays the caller's).
    [[nodiscard]] bool giveBack(Message* first, Message* last) noexcept;
    /// Under the lock: the next free message, from the own stack or else from what was put back. The
    /// caller counts it taken.
    [[nodiscard]] Message* popLocked() noexcept;
    /// Under the lock: n more messages left the stacks.
    void tookLocked(std::size_t n) noexcept {
        taken_.store(taken_.load(std::memory_order_relaxed) + n, std::memory_order_release);
    }
    /// Messages in the stacks (a snapshot; 0 once closed).
    [[nodiscard]] std::size_t pooledNow() const noexcept;
    /// Values of returned_ that are no message: a getter went without (the next put alerts), closed.
    static Message* wantedMark() noexcept {
        alignas(Message) static char mark = 0;
        return reinterpret_cast<Message*>(&mark);
    }
    static Message* closedMark() noexcept {
        alignas(Message) static char mark = 0;
        return reinterpret_cast<Message*>(&mark);
    }
    /// Under the lock: nothing left; the next put tells the alerter (unless one came meanwhile). The want
    /// is a mark on the returned stack, so a put cannot slip between the look and the mark.
    [[nodiscard]] Message* wantLocked() noexcept;
    /// Frees the chain (linked by next) without touching the references; returns how many it freed.
    static std::size_t freeChain(Message* m) noexcept;

    static constexpr std::size_t CacheLine = 64;

    // Read mostly.
    std::pmr::memory_resource* mr_;
    std::atomic<bool> closed_{false};
    std::uint16_t initialMsgs_;
    std::uint16_t maxMsgs_;
    std::atomic<std::size_t> high_{0};         // statistics: the most pooled at once
    std::atomic<std::uint64_t> allocated_{0};  // statistics: get(always) found it empty
    std::atomic<std::size_t> refs_{1};         // the Pool's, plus one per message alive
    std::function<void()> alerter_;            // under the lock

    // Getters' side.
    alignas(CacheLine) mutable ShortLock lock_;  // getters and the alerter
    Message* free_ = nullptr;                    // getters' stack (lock), linked by next
    std::atomic<std::size_t> taken_{0};  // messages that ever left the stacks (written under the lock)

    // Putters' side.
    // Put back since, newest first, by next; or wantedMark, or closedMark for good.
    alignas(CacheLine) std::atomic<Message*> returned_{nullptr};
    std::atomic<std::size_t> given_{0};  // messages that ever entered the stacks (initial ones included)
};

/// Owner of a PoolCore: creates it with its initial messages and closes it when destroyed.
/// 0 for a size means the default (16 / 64); a maximum below the initial size is raised to it.
class Pool {
  public:
    explicit Pool(std::uint16_t initialMsgs = 0, std::uint16_t maxMsgs = 0,
                  std::pmr::memory_resource* mr = nullptr);
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    /// Empty for poolOnly on an empty pool.
    [[nodiscard]] MessagePtr get(AllocationStrategy strategy) { return MessagePtr(core_->get(strategy)); }
    void put(MessagePtr& msg) noexcept { core_->put(msg.release()); }
    void close() noexcept { core_->close(); }

    [[nodiscard]] PoolCore& core() noexcept { return *core_; }
    [[nodiscard]] const PoolCore& core() const noexcept { return *core_; }

  private:
    PoolCore* core_;  // one reference, dropped by the destructor
};

}  // namespace tofu::detail
