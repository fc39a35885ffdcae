// A group's receive queue: filled by the reactor (and updateReceiver), emptied by waitReceive.
//
// The reactor pushes a whole pass's worth of messages under one lock and signals the condition
// variable only when a receiver is actually waiting (no futex syscall otherwise).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "intrusive_queue.hpp"
#include "tofu/message.hpp"

namespace tofu::detail {

class Mailbox {
  public:
    enum class Pop : std::uint8_t { message, timeout, closed };

    Mailbox() = default;
    /// Messages the consumer took but never returned go back to their pools.
    ~Mailbox() {
        while (Message* m = local_.dequeue()) {
            MessageDeleter{}(m);
        }
        while (Message* m = queue_.dequeue()) {
            MessageDeleter{}(m);
        }
    }
    Mailbox(const Mailbox&) = delete;
    Mailbox& operator=(const Mailbox&) = delete;

    /// Appends every message of q (q ends empty). false when closed: q is left untouched.
    bool pushAll(IntrusiveQueue<Message>& q) {
        if (q.empty()) {
            return true;
        }
        bool wake = false;
        {
            std::lock_guard lock(mutex_);
            if (closed_) {
                return false;
            }
            q.move(queue_);
            wake = waiters_ > 0;
        }
        if (wake) {
            cv_.notify_one();
        }
        return true;
    }

    bool push(Message* msg) {
        IntrusiveQueue<Message> q;
        q.enqueue(msg);
        if (!pushAll(q)) {
            (void)q.dequeue();
            return false;
        }
        return true;
    }

    /// Waits up to timeout_ns for a message (UINT64_MAX: no limit). One consumer thread only (the
    /// waitReceive contract): it takes everything queued under one lock and serves it lock-free.
    Pop pop(std::uint64_t timeout_ns, Message*& out) {
        if (closedFlag_.load(std::memory_order_acquire)) {
            return Pop::closed;
        }
        if ((out = local_.dequeue()) != nullptr) {
            return Pop::message;
        }
        std::unique_lock lock(mutex_);
        if (queue_.empty() && !closed_ && timeout_ns > 0) {
            ++waiters_;
            auto ready = [this] { return !queue_.empty() || closed_; };
            // Beyond ~146 years is for ever: a deadline that far would overflow the clock's arithmetic
            // and return at once.
            constexpr std::uint64_t Forever = std::uint64_t{1} << 62;
            if (timeout_ns >= Forever) {
                cv_.wait(lock, ready);
            } else {
                (void)cv_.wait_for(lock, std::chrono::nanoseconds(timeout_ns), ready);
            }
            --waiters_;
            if (waiters_ == 0 && closed_) {
                idle_.notify_all();
            }
        }
        if (closed_) {
            return Pop::closed;
        }
        queue_.move(local_);
        lock.unlock();
        out = local_.dequeue();
        return out != nullptr ? Pop::message : Pop::timeout;
    }

    /// Refuses further pushes, wakes every waiter and hands back what was queued.
    IntrusiveQueue<Message> close() {
        IntrusiveQueue<Message> rest;
        {
            std::lock_guard lock(mutex_);
            closed_ = true;
            closedFlag_.store(true, std::memory_order_release);
            queue_.move(rest);
        }
        cv_.notify_all();
        return rest;
    }

    /// After close() and once no thread uses the mailbox: every message still held goes back to its pool
    /// (a destroyed group keeps nothing of its engine's memory).
    void discard() noexcept {
        while (Message* m = local_.dequeue()) {
            MessageDeleter{}(m);
        }
        std::lock_guard lock(mutex_);
        while (Message* m = queue_.dequeue()) {
            MessageDeleter{}(m);
        }
    }

    /// After close() and once no thread uses the mailbox: empty and open again (a recycled group).
    void reopen() noexcept {
        discard();
        std::lock_guard lock(mutex_);
        closed_ = false;
        closedFlag_.store(false, std::memory_order_release);
    }

    /// After close(): waits until no thread is inside pop(), so the mailbox may be freed.
    void waitIdle() {
        std::unique_lock lock(mutex_);
        idle_.wait(lock, [this] { return waiters_ == 0; });
    }

    /// Threads inside pop() right now (tests use it to know a receiver is blocked).
    [[nodiscard]] int waiters() const {
        std::lock_guard lock(mutex_);
        return waiters_;
    }

    [[nodiscard]] bool closed() const {
        std::lock_guard lock(mutex_);
        return closed_;
    }

  private:
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::condition_variable idle_;
    IntrusiveQueue<Message> queue_;
    int waiters_ = 0;
    bool closed_ = false;
    std::atomic<bool> closedFlag_{false};  // closed_, readable without the mutex
    IntrusiveQueue<Message> local_;        // consumer-only: taken from queue_ in one go
};

}  // namespace tofu::detail
