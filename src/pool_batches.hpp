// The reactor's traffic with the pool in batches: receive buffers taken several at a time while frames
// keep coming, sent messages returned together after each write — one pool lock per batch, not per
// message. Reactor thread only.
#pragma once

#include <cstddef>

#include "intrusive_queue.hpp"
#include "pool.hpp"

namespace tofu::detail {

class PoolBatches {
  public:
    explicit PoolBatches(PoolCore& pool) noexcept : pool_(pool) {}
    [[nodiscard]] const PoolCore& core() const noexcept { return pool_; }
    PoolBatches(const PoolBatches&) = delete;
    PoolBatches& operator=(const PoolBatches&) = delete;
    ~PoolBatches() { endPass(); }

    /// A pool message for an incoming frame; nullptr when there is none (back-pressure). One message for
    /// the first frame of a pass (a lone request), a batch once frames keep coming. When the pool is empty
    /// although the application holds fewer than its maximum, the rest wait in this engine's send queues
    /// (queued() keeps their count) and return only once written, which may wait for this very read (both
    /// ends in one engine): then a new message is borrowed instead of pausing for ever.
    [[nodiscard]] Message* takeForReceive() {
        if (Message* m = rx_.dequeue()) {
            return m;
        }
        const std::size_t n = rxTakenThisPass_ ? RxBatch : 1;
        rxTakenThisPass_ = true;
        (void)pool_.getBatch(rx_, n);
        if (Message* m = rx_.dequeue()) {
            return m;
        }
        return mayBorrow() ? pool_.get(AllocationStrategy::always) : nullptr;
    }

    /// Whether takeForReceive() would borrow from an empty pool.
    [[nodiscard]] bool mayBorrow() const noexcept {
        if (queued_ == 0) {
            return false;
        }
        const std::size_t out = pool_.outstanding();
        const std::size_t appHeld = out > queued_ ? out - queued_ : 0;
        return appHeld < pool_.maxMsgs();
    }

    /// Frames of this pool's messages entering (d > 0) or leaving the engine's send queues (SendQueue).
    void queued(std::ptrdiff_t d) noexcept {
        queued_ = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(queued_) + d);
    }

    /// A written message: back to its pool with the others of this write (freed when not the pool's).
    void sent(Message* m) noexcept {
        MessageLinks::ctx(*m) = nullptr;
        if (pool_.owns(*m)) {
            tx_.enqueue(m);
        } else {
            MessageDeleter{}(m);
        }
    }

    /// The messages sent so far go back to the pool (under one lock).
    void returnSent() noexcept { pool_.putAll(tx_); }

    /// End of a pass: what was taken and not used is the application's again.
    void endPass() noexcept {
        pool_.putAll(rx_);
        pool_.putAll(tx_);
        rxTakenThisPass_ = false;
    }

  private:
    static constexpr std::size_t RxBatch = 16;

    PoolCore& pool_;
    IntrusiveQueue<Message> rx_;
    IntrusiveQueue<Message> tx_;
    bool rxTakenThisPass_ = false;
    std::size_t queued_ = 0;  // frames of the pool's messages in every send queue
};

}  // namespace tofu::detail
