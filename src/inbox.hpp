// The reactor's inbox: everything application threads hand the reactor thread — messages to send,
// destroy commands, pool refills, the stop request — and the wake-up that tells it to look (the model is
// libzmq's mailbox_t: a queue and its signaler in one class).
//
// Messages travel lock-free: post() pushes onto an intrusive stack with one compare-and-swap and wakes the
// reactor only when the stack was empty; the reactor takes the whole stack with one exchange and reverses
// it (FIFO per sender). Destroy commands, rare, use a mutex the reactor looks at only when one waits.
//
// Application threads: post, destroy, poolRefilled, stop, wake. Reactor thread: the rest.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "intrusive_queue.hpp"
#include "notifier.hpp"
#include "tofu/message.hpp"
#include "tofu/stats.hpp"

namespace tofu::detail {

class MchnGroup;

class Inbox {
  public:
    /// A destroy() waiting for the reactor to close its group's channels.
    struct DestroyCommand {
        MchnGroup* group = nullptr;
        bool done = false;
    };

    /// A channelStats() call waiting for the reactor's answer. Shared: a caller that stops waiting leaves
    /// it to the reactor, which may still be filling it.
    struct ChannelQuery {
        std::vector<ChannelStats> channels;  // written by the reactor, read by the caller once done
        bool answered = false;               // the reactor filled channels (false: it stopped first)
        bool done = false;                   // under the mutex
    };
    using Queries = std::vector<std::shared_ptr<ChannelQuery>>;

    explicit Inbox(WakeKind kind) : notifier_(kind) {}
    /// Frees what a post racing the close left (after every group is retired: no post can follow).
    ~Inbox();
    Inbox(const Inbox&) = delete;
    Inbox& operator=(const Inbox&) = delete;

    /// The descriptor the reactor polls: readable after a wake-up.
    [[nodiscard]] int wakeFd() const noexcept { return notifier_.receiver(); }

    // ---- application threads ----

    /// Queues m (its context names its group) for the reactor. false once the inbox is closed: m stays the
    /// caller's. The caller is inside a send call of the group (MchnGroup::Call): destroy() of the group
    /// waits for it before its command, so the group's messages all come before the command.
    [[nodiscard]] bool post(Message* m) noexcept {
        if (closed_.load(std::memory_order_acquire)) {
            return false;
        }
        Message* old = head_.load(std::memory_order_relaxed);
        do {
            MessageLinks::next(*m) = old;
        } while (!head_.compare_exchange_weak(old, m, std::memory_order_release, std::memory_order_relaxed));
        if (old == nullptr) {
            notifier_.notify();  // the stack was empty: the reactor may be asleep
        }
        return true;
    }
    /// false once the reactor has stopped taking anything.
    [[nodiscard]] bool open() const noexcept { return !closed_.load(std::memory_order_acquire); }
    /// Has the reactor close g's channels and mailbox and waits until it did (returns at once when the
    /// reactor has stopped).
    void destroy(MchnGroup& g);
    /// Has the reactor describe its channels into q; false when it did not answer within timeout or has
    /// stopped.
    [[nodiscard]] bool ask(const std::shared_ptr<ChannelQuery>& q, std::chrono::milliseconds timeout);
    /// A message came back to a pool a reader had found empty (called under the pool's lock: never blocks).
    void poolRefilled() noexcept {
        refill_.store(true, std::memory_order_release);
        notifier_.notify();
    }
    /// Asks the reactor to stop.
    void stop() noexcept {
        stop_.store(true, std::memory_order_release);
        notifier_.notify();
    }
    /// Makes the reactor look (for work it finds elsewhere, e.g. resolver results).
    void wake() noexcept { notifier_.notify(); }

    // ---- reactor thread ----

    [[nodiscard]] bool stopRequested() const noexcept { return stop_.load(std::memory_order_acquire); }
    /// True once per refill.
    [[nodiscard]] bool takeRefill() noexcept { return refill_.exchange(false, std::memory_order_acq_rel); }
    /// Moves every queued message (in the order posted) and command out.
    void take(IntrusiveQueue<Message>& msgs, std::vector<DestroyCommand*>& cmds);
    /// Moves the waiting channel queries out (nothing, without a lock, when none waits).
    void takeQueries(Queries& qs);
    /// The queries are answered (or given up): their ask() calls return; qs ends empty.
    void answer(Queries& qs);
    /// The commands are carried out: their destroy() calls return.
    void complete(const std::vector<DestroyCommand*>& cmds);
    /// Closes the inbox for good (post and destroy refuse from now on) and moves out what is left.
    void close(IntrusiveQueue<Message>& msgs, std::vector<DestroyCommand*>& cmds);
    /// The wake-up was seen: reads it away (wake-ups stay coalesced until rearm()).
    void drain() noexcept { notifier_.drain(); }
    /// Done looking: later wake-ups write again. Returns whether work came in meanwhile (then look again
    /// without sleeping: its wake-up may have been swallowed).
    [[nodiscard]] bool rearm();

  private:
    /// Takes the whole stack, oldest first.
    void takeMessages(IntrusiveQueue<Message>& msgs) noexcept;

    std::atomic<Message*> head_{nullptr};  // newest first, linked by Message::next
    std::atomic<bool> closed_{false};
    std::atomic<bool> commandWaiting_{false};  // cmds_ is not empty: look under the mutex
    std::mutex mutex_;
    std::condition_variable completed_;
    std::vector<DestroyCommand*> cmds_;
    std::atomic<bool> queryWaiting_{false};  // queries_ is not empty
    Queries queries_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> refill_{false};
    Notifier notifier_;
};

}  // namespace tofu::detail
