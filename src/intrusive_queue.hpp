// Intrusive FIFO over T::prev / T::next: no allocation, O(1) enqueue, pushFront and dequeue.
#pragma once

#include <cstddef>

namespace tofu::detail {

template <class T>
class IntrusiveQueue {
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
        item->next = nullptr;
        item->prev = last_;
        if (last_ != nullptr) {
            last_->next = item;
        } else {
            first_ = item;
        }
        last_ = item;
        ++count_;
    }

    void pushFront(T* item) noexcept {
        item->prev = nullptr;
        item->next = first_;
        if (first_ != nullptr) {
            first_->prev = item;
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
        item->next = pos;
        item->prev = pos->prev;
        if (pos->prev != nullptr) {
            pos->prev->next = item;
        } else {
            first_ = item;
        }
        pos->prev = item;
        ++count_;
    }

    /// Removes the head; nullptr when empty. The new head's prev becomes nullptr.
    T* dequeue() noexcept {
        T* item = first_;
        if (item == nullptr) {
            return nullptr;
        }
        first_ = item->next;
        if (first_ == nullptr) {
            last_ = nullptr;
        } else {
            first_->prev = nullptr;
        }
        item->prev = nullptr;
        item->next = nullptr;
        --count_;
        return item;
    }

    /// Appends every item of this queue to dest, in order; this queue ends empty. O(1).
    void move(IntrusiveQueue& dest) noexcept {
        if (first_ == nullptr) {
            return;
        }
        if (dest.last_ != nullptr) {
            dest.last_->next = first_;
            first_->prev = dest.last_;
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
