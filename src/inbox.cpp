#include "inbox.hpp"

#include <algorithm>

#include "delivery.hpp"

namespace tofu::detail {

Inbox::~Inbox() {
    IntrusiveQueue<Message> left;
    takeMessages(left);
    releaseAll(std::move(left));
}

void Inbox::destroy(MchnGroup& g) {
    DestroyCommand cmd{&g};
    std::unique_lock lock(mutex_);
    if (closed_.load(std::memory_order_acquire)) {
        return;
    }
    cmds_.push_back(&cmd);
    commandWaiting_.store(true, std::memory_order_release);
    lock.unlock();
    notifier_.notify();
    lock.lock();
    completed_.wait(lock, [&cmd] { return cmd.done; });
}

bool Inbox::ask(const std::shared_ptr<ChannelQuery>& q, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (closed_.load(std::memory_order_acquire)) {
        return false;
    }
    queries_.push_back(q);
    queryWaiting_.store(true, std::memory_order_release);
    lock.unlock();
    notifier_.notify();
    lock.lock();
    // A year is for ever here, and keeps now + timeout inside the clock's range; below 0 is 0.
    const auto bounded = std::clamp<std::chrono::milliseconds>(timeout, std::chrono::milliseconds(0),
                                                               std::chrono::hours(24 * 365));
    if (completed_.wait_for(lock, bounded, [&q] { return q->done; })) {
        return q->answered;
    }
    // Given up: a query the reactor has not taken yet leaves the queue, so unanswered calls cost it nothing.
    std::erase(queries_, q);
    if (queries_.empty()) {
        queryWaiting_.store(false, std::memory_order_relaxed);
    }
    return false;
}

void Inbox::takeQueries(Queries& qs) {
    if (!queryWaiting_.load(std::memory_order_acquire)) {
        return;
    }
    std::lock_guard lock(mutex_);
    qs.swap(queries_);
    queryWaiting_.store(false, std::memory_order_relaxed);
}

void Inbox::answer(Queries& qs) {
    if (qs.empty()) {
        return;
    }
    {
        std::lock_guard lock(mutex_);
        for (const auto& q : qs) {
            q->done = true;
        }
    }
    completed_.notify_all();
    qs.clear();
}

void Inbox::takeMessages(IntrusiveQueue<Message>& msgs) noexcept {
    Message* newestFirst = head_.exchange(nullptr, std::memory_order_acquire);
    Message* oldestFirst = nullptr;
    while (newestFirst != nullptr) {
        Message* next = MessageLinks::next(*newestFirst);
        MessageLinks::next(*newestFirst) = oldestFirst;
        oldestFirst = newestFirst;
        newestFirst = next;
    }
    while (oldestFirst != nullptr) {
        Message* next = MessageLinks::next(*oldestFirst);
        msgs.enqueue(oldestFirst);
        oldestFirst = next;
    }
}

void Inbox::take(IntrusiveQueue<Message>& msgs, std::vector<DestroyCommand*>& cmds) {
    // Commands first: a group's sends all happened before its destroy command was queued, so the messages
    // taken after seeing the command include every one of them (they are handled before the command).
    if (commandWaiting_.load(std::memory_order_acquire)) {
        std::lock_guard lock(mutex_);
        cmds.swap(cmds_);
        commandWaiting_.store(false, std::memory_order_relaxed);
    }
    takeMessages(msgs);
}

void Inbox::complete(const std::vector<DestroyCommand*>& cmds) {
    if (cmds.empty()) {
        return;
    }
    {
        std::lock_guard lock(mutex_);
        for (DestroyCommand* c : cmds) {
            c->done = true;
        }
    }
    completed_.notify_all();
}

void Inbox::close(IntrusiveQueue<Message>& msgs, std::vector<DestroyCommand*>& cmds) {
    {
        std::lock_guard lock(mutex_);
        closed_.store(true, std::memory_order_seq_cst);
        cmds.swap(cmds_);
        commandWaiting_.store(false, std::memory_order_relaxed);
        for (const auto& q : queries_) {
            q->done = true;  // unanswered: the engine stops
        }
        queries_.clear();
        queryWaiting_.store(false, std::memory_order_relaxed);
    }
    completed_.notify_all();
    takeMessages(msgs);
}

bool Inbox::rearm() {
    notifier_.rearm();  // seq_cst: the loads below cannot move before it
    return refill_.load(std::memory_order_acquire) || head_.load(std::memory_order_acquire) != nullptr ||
           commandWaiting_.load(std::memory_order_acquire) || queryWaiting_.load(std::memory_order_acquire);
}

}  // namespace tofu::detail
