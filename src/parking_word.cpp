#include "parking_word.hpp"

#include <chrono>
#include <climits>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ctime>
#endif

namespace tofu::detail {

#if defined(__linux__)

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));

void ParkingWord::wait(std::uint32_t expected, std::uint64_t timeout_ns) noexcept {
    timespec ts{};
    timespec* limit = nullptr;
    if (timeout_ns != Forever) {
        ts.tv_sec = static_cast<std::time_t>(timeout_ns / 1'000'000'000U);
        ts.tv_nsec = static_cast<long>(timeout_ns % 1'000'000'000U);
        limit = &ts;
    }
    // EAGAIN (word changed), EINTR and ETIMEDOUT all mean: look again.
    (void)::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, limit,
                    nullptr, 0);
}

void ParkingWord::wakeAll() noexcept {
    (void)::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr,
                    nullptr, 0);
}

#else

void ParkingWord::wait(std::uint32_t expected, std::uint64_t timeout_ns) noexcept {
    std::unique_lock lock(mutex_);
    if (word.load(std::memory_order_seq_cst) != expected) {
        return;
    }
    if (timeout_ns == Forever) {
        cv_.wait(lock);
    } else {
        (void)cv_.wait_for(lock, std::chrono::nanoseconds(timeout_ns));
    }
}

void ParkingWord::wakeAll() noexcept {
    { const std::lock_guard lock(mutex_); }  // a waiter between its check and its sleep is asleep after this
    cv_.notify_all();
}

#endif

}  // namespace tofu::detail
