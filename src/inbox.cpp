#include "inbox.hpp"

#include "mchn_group.hpp"

namespace tofu::detail {

bool Inbox::post(MchnGroup& g, Message* m) {
    {
        std::lock_guard lock(mutex_);
        if (closed_ || g.destroying) {
            return false;
        }
        msgs_.enqueue(m);
    }
    notifier_.notify();
    return true;
}

bool Inbox::open() {
    std::lock_guard lock(mutex_);
    return !closed_;
}

void Inbox::destroy(MchnGroup& g) {
    DestroyCommand cmd{&g};
    std::unique_lock lock(mutex_);
    g.destroying = true;
    if (closed_) {
        return;
    }
    cmds_.push_back(&cmd);
    lock.unlock();
    notifier_.notify();
    lock.lock();
    completed_.wait(lock, [&cmd] { return cmd.done; });
}

void Inbox::take(IntrusiveQueue<Message>& msgs, std::vector<DestroyCommand*>& cmds) {
    std::lock_guard lock(mutex_);
    msgs_.move(msgs);
    if (!cmds_.empty()) {
        cmds.swap(cmds_);
    }
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
    std::lock_guard lock(mutex_);
    closed_ = true;
    msgs_.move(msgs);
    cmds.swap(cmds_);
}

bool Inbox::rearm() {
    notifier_.rearm();
    if (refill_.load(std::memory_order_acquire)) {
        return true;
    }
    std::lock_guard lock(mutex_);
    return !msgs_.empty() || !cmds_.empty();
}

}  // namespace tofu::detail
