// The ChannelGroup implementation (the original's MchnGroup): the application-thread side of a group,
// and the shelf where destroyed groups wait so that late calls fail cleanly.
#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "intrusive_queue.hpp"
#include "mailbox.hpp"
#include "tofu/ampe.hpp"
#include "tofu/reactor.hpp"

namespace tofu::detail {

class Channel;

class MchnGroup final : public ChannelGroup {
  public:
    explicit MchnGroup(Reactor::Impl& engine) : engine_(&engine) {}

    BinaryHeader enqueueToPeer(MessagePtr& msg) override;
    MessagePtr waitReceive(std::uint64_t timeout_ns) override;
    void updateReceiver(MessagePtr& msg) override;
    using ChannelGroup::updateReceiver;

    Mailbox mailbox;

    // Reactor thread only: messages delivered during the current pass, pushed to the mailbox at its end.
    IntrusiveQueue<Message> outbox;
    bool dirty = false;
    // Reactor thread only: the group's open channels (each knows its index), so destroy is O(channels).
    std::vector<Channel*> channels;

    /// Every API call holds one of these: destroy() waits for the calls already inside before it
    /// retires the group, and calls that start later fail with shutdown_started. Sends are counted on their
    /// own: destroy() lets them finish before it hands the reactor its command, so no message of the group
    /// reaches the inbox after that command (a receive may be blocked until the command wakes it).
    class Call {
      public:
        enum class Kind : std::uint8_t { send, other };
        explicit Call(MchnGroup& g, Kind kind = Kind::other);
        ~Call() { counter_.fetch_sub(1, std::memory_order_release); }
        Call(const Call&) = delete;
        Call& operator=(const Call&) = delete;

      private:
        std::atomic<int>& counter_;
    };

    /// Closes the receive queue (a blocked waitReceive wakes and throws) and frees what it held.
    void closeMailbox() noexcept;

    /// destroy(): refuses new calls from now on.
    void shut() noexcept { open_.store(false, std::memory_order_seq_cst); }
    /// destroy(): waits until no send is inside the group.
    void waitSendsDone() const noexcept;
    /// destroy(): waits until no call is inside the group.
    void waitCallsDone() const noexcept;
    /// create(): makes a retired group usable again, for engine.
    void reopen(Reactor::Impl& engine) noexcept;

  private:
    // Touched by every call of the application's threads: apart from the reactor's fields above.
    alignas(
        64) Reactor::Impl* engine_;  // only touched by a call that got past Call, so never a destroyed engine
    std::atomic<int> calls_{0};      // calls inside other than sends
    std::atomic<int> sends_{0};      // enqueueToPeer calls inside
    std::atomic<bool> open_{true};
};

/// Destroyed groups, kept process-wide: a late call on one (after destroy(), or while or after its
/// engine is destroyed) finds it shut and throws shutdown_started instead of touching freed memory.
/// create() recycles the oldest once more than Kept wait, so memory stays bounded by the peak number of
/// groups.
class GroupShelf {
  public:
    static constexpr std::size_t Kept = 64;
    static GroupShelf& instance();
    /// A shut group to reopen, or nullptr while no more than Kept wait.
    [[nodiscard]] std::unique_ptr<MchnGroup> take();
    /// g is shut and no call is inside it.
    void put(std::unique_ptr<MchnGroup> g);

  private:
    std::mutex mutex_;
    std::deque<std::unique_ptr<MchnGroup>> groups_;
};

}  // namespace tofu::detail
