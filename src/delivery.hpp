// What the reactor hands to channel groups during one pass: collected per group, pushed to each group's
// mailbox once at the end of the pass (one compare-and-swap, and a wake-up only for a sleeping receiver,
// per group and pass).
// Reactor thread only.
#pragma once

#include <vector>

#include "intrusive_queue.hpp"
#include "pool.hpp"
#include "tofu/message.hpp"
#include "tofu/status.hpp"

namespace tofu::detail {

class MchnGroup;

/// Back to its pool (or freed), whatever the engine had attached to it.
void releaseMessage(Message* m) noexcept;
void releaseAll(IntrusiveQueue<Message>&& q) noexcept;

/// An engine signal (regular/signal, origin engine) from the pool, allocated when the pool is empty.
/// Throws when the pool is closed or memory is out.
[[nodiscard]] Message* makeSignal(PoolCore& pool, AmpeStatus st, ChannelNumber cn, MessageID mid);

class Delivery {
  public:
    explicit Delivery(PoolCore& pool) noexcept : pool_(pool) {}

    /// m goes to g's receiver at the end of the pass.
    void deliver(MchnGroup& g, Message* m) noexcept;
    /// m goes back to its sender unsent: marked returned, origin engine, status st.
    void bounce(MchnGroup& g, Message* m, AmpeStatus st) noexcept;
    /// A new engine signal for g (dropped when no message can be had: the next call on the group tells).
    void signal(MchnGroup& g, AmpeStatus st, ChannelNumber cn, MessageID mid) noexcept;

    /// Pushes everything collected into the groups' mailboxes (freed for a group whose mailbox closed).
    void flush() noexcept;
    /// g is being destroyed: what was collected for it is freed.
    void forget(MchnGroup& g) noexcept;
    /// The engine stops: everything collected is freed.
    void discardAll() noexcept;

  private:
    PoolCore& pool_;
    std::vector<MchnGroup*> dirty_;  // groups with something collected in this pass
};

}  // namespace tofu::detail
