// Intrusive FIFO over each item's prev/next links: no allocation, O(1) enqueue, pushFront and dequeue.
#pragma once

#include <cstddef>

#include "tofu/message.hpp"

namespace tofu::detail {

/// How the engine reaches an item's links: T::prev and T::next by default.
template <class T>
struct Links {
    static T*& prev(T& t) noexcept { return t.prev; }
    static T*& next(T& t) noexcept { return t.next; }
};

/// A Message keeps its links and the engine's context private (befriending this).
template <>
struct Links<Message> {
    static Message*& prev(Message& m) noexcept { return m.prev_; }
    static Message*& next(Message& m) noexcept { return m.next_; }
    static Message* next(const Message& m) noexcept { return m.next_; }
    static void*& ctx(Message& m) noexcept { return m.ctx_; }
};
using MessageLinks = Links<Message>;

template <class T>
class IntrusiveQueue {
    using L = Links<T>;

  public:
    IntrusiveQueue() = default;
    ~IntrusiveQueue() = default;  // the items are not the queue's: nothing to free
    IntrusiveQueue(const IntrusiveQueue&) = delete;
    IntrusiveQueue& operator=(const IntrusiveQueue&) = delete;
    IntrusiveQueue(IntrusiveQueue&& o) noexcept : first_(o.first_), last_(o.last_), count_(o.count_) {
        o.first_ = o.last_ = nullptr;
        o.count_ = 0;
    }
    IntrusiveQueue& operator=(IntrusiveQueue&& o) noexcept {
        if (this != &o) {
            first_ = o.first_;
            last_ = o.last_;
            count_ = o.count_;
            o.first_ = o.last_ = nullptr;
            o.count_ = 0;
        }
        return *this;
    }

    void enqueue(T* item) noexcept {
        L::next(*item) = nullptr;
        L::prev(*item) = last_;
        if (last_ != nullptr) {
            L::next(*last_) = item;
        } else {
            first_ = item;
        }
        last_ = item;
        ++count_;
    }

    void pushFront(T* item) noexcept {
        L::prev(*item) = nullptr;
        L::next(*item) = first_;
        if (first_ != nullptr) {
            L::prev(*first_) = item;
        } else {
            last_ = item;
        }
        first_ = item;
        ++count_;
    }

    /// Inserts item in front of pos, a member of this queue; at the tail when pos is nullptr.
    void insertBefore(T* pos, T* item) noexcept {
        if (pos == nullptr) {
            enqueue(item);
            return;
        }
        L::next(*item) = pos;
        L::prev(*item) = L::prev(*pos);
        if (L::prev(*pos) != nullptr) {
            L::next(*L::prev(*pos)) = item;
        } else {
            first_ = item;
        }
        L::prev(*pos) = item;
        ++count_;
    }

    /// Removes the head; nullptr when empty. The new head's prev becomes nullptr.
    T* dequeue() noexcept {
        T* item = first_;
        if (item == nullptr) {
            return nullptr;
        }
        first_ = L::next(*item);
        if (first_ == nullptr) {
            last_ = nullptr;
        } else {
            L::prev(*first_) = nullptr;
        }
        L::prev(*item) = nullptr;
        L::next(*item) = nullptr;
        --count_;
        return item;
    }

    /// Appends every item of this queue to dest, in order; this queue ends empty. O(1).
    void move(IntrusiveQueue& dest) noexcept {
        if (first_ == nullptr) {
            return;
        }
        if (dest.last_ != nullptr) {
            L::next(*dest.last_) = first_;
            L::prev(*first_) = dest.last_;
        } else {
            dest.first_ = first_;
        }
        dest.last_ = last_;
        dest.count_ += count_;
        first_ = last_ = nullptr;
        count_ = 0;
    }

    [[nodiscard]] bool empty() const noexcept { return first_ == nullptr; }
    [[nodiscard]] std::size_t count() const noexcept { return count_; }
    [[nodiscard]] T* front() const noexcept { return first_; }

  private:
    T* first_ = nullptr;
    T* last_ = nullptr;
    std::size_t count_ = 0;
};

}  // namespace tofu::detail
