// The reactor's inbox: everything application threads hand the reactor thread — messages to send,
// destroy commands, pool refills, the stop request — and the wake-up that tells it to look (the model is
// libzmq's mailbox_t: a queue and its signaler in one class).
//
// Application threads: post, destroy, poolRefilled, stop, wake. Reactor thread: the rest.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "intrusive_queue.hpp"
#include "notifier.hpp"
#include "tofu/message.hpp"

namespace tofu::detail {

class MchnGroup;

class Inbox {
  public:
    /// A destroy() waiting for the reactor to close its group's channels.
    struct DestroyCommand {
        MchnGroup* group;
        bool done = false;
    };

    explicit Inbox(WakeKind kind) : notifier_(kind) {}

    /// The descriptor the reactor polls: readable after a wake-up.
    [[nodiscard]] int wakeFd() const noexcept { return notifier_.receiver(); }

    // ---- application threads ----

    /// Queues m (m->ctx names g) for the reactor. false when the inbox is closed or g is being
    /// destroyed: m stays the caller's.
    [[nodiscard]] bool post(MchnGroup& g, Message* m);
    /// false once the reactor has stopped taking anything.
    [[nodiscard]] bool open();
    /// Refuses g's messages from now on, has the reactor close g's channels and waits until it did
    /// (returns at once when the reactor has stopped).
    void destroy(MchnGroup& g);
    /// A message came back to a pool a reader had found empty (called under the pool's mutex: never blocks).
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
    /// Moves every queued message and command out (in order).
    void take(IntrusiveQueue<Message>& msgs, std::vector<DestroyCommand*>& cmds);
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
    std::mutex mutex_;
    std::condition_variable completed_;
    IntrusiveQueue<Message> msgs_;
    std::vector<DestroyCommand*> cmds_;
    bool closed_ = false;
    std::atomic<bool> stop_{false};
    std::atomic<bool> refill_{false};
    Notifier notifier_;
};

}  // namespace tofu::detail
