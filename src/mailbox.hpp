// A group's receive queue: filled by the reactor (and updateReceiver), emptied by waitReceive.
//
// Lock-free both ways: pushers put a whole batch (a reactor pass's worth) on an intrusive stack with one
// compare-and-swap; the receiver takes the whole stack with another and serves it in order from a local
// queue. The receiver sleeps on a futex word only when the stack is empty, and a pusher makes the wake-up
// system call only when the receiver sleeps (a condition variable's mutex cost a system call after every
// wait: glibc leaves it marked contended).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "intrusive_queue.hpp"
#include "parking_word.hpp"
#include "tofu/message.hpp"

namespace tofu::detail {

class Mailbox {
  public:
    enum class Pop : std::uint8_t { message, timeout, closed };

    Mailbox() = default;
    /// Messages the consumer took but never returned go back to their pools.
    ~Mailbox() { discard(); }
    Mailbox(const Mailbox&) = delete;
    Mailbox& operator=(const Mailbox&) = delete;

    /// Appends every message of q (q ends empty). false when closed: q is left untouched.
    bool pushAll(IntrusiveQueue<Message>& q) {
        if (q.empty()) {
            return true;
        }
        Message* old = head_.load(std::memory_order_relaxed);
        if (old == closedMark()) {
            return false;
        }
        // The stack holds the newest first: link the batch in reverse.
        Message* oldest = q.front();
        Message* newest = nullptr;
        while (Message* m = q.dequeue()) {
            MessageLinks::next(*m) = newest;
            newest = m;
        }
        do {
            if (old == closedMark()) {
                MessageLinks::next(*oldest) = nullptr;  // a failed try linked it to the stack of then
                while (newest != nullptr) {             // give q back as it was
                    Message* next = MessageLinks::next(*newest);
                    q.pushFront(newest);
                    newest = next;
                }
                return false;
            }
            MessageLinks::next(*oldest) = old;
        } while (
            !head_.compare_exchange_weak(old, newest, std::memory_order_seq_cst, std::memory_order_relaxed));
        // Seen after the push (both sequentially consistent): a receiver that found the stack empty has
        // set the word first, so this read sees it.
        if (sleeping_.word.load(std::memory_order_seq_cst) != 0 &&
            sleeping_.word.exchange(0, std::memory_order_seq_cst) != 0) {
            sleeping_.wakeAll();
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
    /// waitReceive contract): it takes everything queued at once and serves it from its own queue.
    Pop pop(std::uint64_t timeout_ns, Message*& out) {
        out = nullptr;
        if (closed()) {
            return Pop::closed;
        }
        if ((out = local_.dequeue()) != nullptr) {
            return Pop::message;
        }
        Take t = take();
        if (t == Take::empty && timeout_ns > 0) {
            t = sleepAndTake(timeout_ns);
        }
        if (t == Take::closed) {
            return Pop::closed;
        }
        out = local_.dequeue();
        return out != nullptr ? Pop::message : Pop::timeout;
    }

    /// Refuses further pushes, wakes every waiter and hands back what was queued.
    IntrusiveQueue<Message> close() {
        IntrusiveQueue<Message> rest;
        Message* newest = head_.exchange(closedMark(), std::memory_order_seq_cst);
        if (newest != closedMark()) {
            reverseInto(newest, rest);
        }
        sleeping_.word.store(0, std::memory_order_seq_cst);
        sleeping_.wakeAll();
        return rest;
    }

    /// After close() and once no thread uses the mailbox: every message still held goes back to its pool
    /// (a destroyed group keeps nothing of its engine's memory).
    void discard() noexcept {
        while (Message* m = local_.dequeue()) {
            MessageDeleter{}(m);
        }
        Message* m = head_.load(std::memory_order_acquire);
        if (m == closedMark()) {
            return;
        }
        head_.store(nullptr, std::memory_order_release);
        while (m != nullptr) {
            Message* next = MessageLinks::next(*m);
            MessageLinks::next(*m) = nullptr;
            MessageDeleter{}(m);
            m = next;
        }
    }

    /// After close() and once no thread uses the mailbox: empty and open again (a recycled group).
    void reopen() noexcept {
        discard();
        head_.store(nullptr, std::memory_order_release);
    }

    /// After close(): waits until no thread is inside pop(), so the mailbox may be freed.
    void waitIdle() {
        for (int n = waiters_.load(std::memory_order_acquire); n != 0;
             n = waiters_.load(std::memory_order_acquire)) {
            waiters_.wait(n, std::memory_order_acquire);
        }
    }

    /// Threads blocking inside pop() right now, or about to (tests use it to know a receiver waits).
    [[nodiscard]] int waiters() const noexcept { return waiters_.load(std::memory_order_acquire); }

    [[nodiscard]] bool closed() const noexcept {
        return head_.load(std::memory_order_acquire) == closedMark();
    }

  private:
    enum class Take : std::uint8_t { got, empty, closed };

    /// head_ once closed: never a message's address, never dereferenced.
    static Message* closedMark() noexcept {
        alignas(Message) static char mark = 0;
        return reinterpret_cast<Message*>(&mark);
    }

    /// Oldest first into q.
    static void reverseInto(Message* newest, IntrusiveQueue<Message>& q) noexcept {
        Message* oldest = nullptr;
        while (newest != nullptr) {
            Message* next = MessageLinks::next(*newest);
            MessageLinks::next(*newest) = oldest;
            oldest = newest;
            newest = next;
        }
        while (oldest != nullptr) {
            Message* next = MessageLinks::next(*oldest);
            q.enqueue(oldest);
            oldest = next;
        }
    }

    /// Moves the whole stack into local_. The first load is sequentially consistent: after the receiver's
    /// store of the sleeping word, it must not be ordered before it (pushAll's side of the handshake).
    Take take() noexcept {
        Message* h = head_.load(std::memory_order_seq_cst);
        while (
            h != nullptr && h != closedMark() &&
            !head_.compare_exchange_weak(h, nullptr, std::memory_order_acquire, std::memory_order_acquire)) {
        }
        if (h == closedMark()) {
            return Take::closed;
        }
        if (h == nullptr) {
            return Take::empty;
        }
        reverseInto(h, local_);
        return Take::got;
    }

    Take sleepAndTake(std::uint64_t timeout_ns) {
        using Clock = std::chrono::steady_clock;
        // Beyond ~146 years is for ever: a deadline that far would overflow the clock's arithmetic.
        constexpr std::uint64_t Forever = std::uint64_t{1} << 62;
        const bool forever = timeout_ns >= Forever;
        const Clock::time_point deadline =
            forever ? Clock::time_point::max() : Clock::now() + std::chrono::nanoseconds(timeout_ns);
        waiters_.fetch_add(1, std::memory_order_acq_rel);
        Take t = Take::empty;
        for (;;) {
            sleeping_.word.store(1, std::memory_order_seq_cst);
            if ((t = take()) != Take::empty) {
                break;
            }
            std::uint64_t left = ParkingWord::Forever;
            if (!forever) {
                const Clock::duration d = deadline - Clock::now();
                if (d <= Clock::duration::zero()) {
                    break;
                }
                left = static_cast<std::uint64_t>(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
            }
            sleeping_.wait(1, left);
        }
        sleeping_.word.store(0, std::memory_order_relaxed);
        if (waiters_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            waiters_.notify_all();
        }
        return t;
    }

    static constexpr std::size_t CacheLine = 64;

    std::atomic<Message*> head_{nullptr};  // newest first, linked by next; closedMark() once closed
    ParkingWord sleeping_;                 // 1 while the receiver sleeps (or is about to)
    std::atomic<int> waiters_{0};          // threads in sleepAndTake()
    // Consumer-only, taken from the stack in one go; on a line of its own, so a pop does not contend
    // with the pushers' compare-and-swap.
    alignas(CacheLine) IntrusiveQueue<Message> local_;
};

}  // namespace tofu::detail
