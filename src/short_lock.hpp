// A lock for critical sections of a few instructions (the pool's free stack): a waiter spins briefly, as
// the holder is about to leave, then yields its CPU; it never sleeps in the kernel. std::mutex puts a
// waiter to sleep at once and makes the holder's unlock a wake-up system call: where the application's
// get() met the reactor's batch on the pool, that was half the futex calls of a 64 B flood.
#pragma once

#include <atomic>
#include <thread>

namespace tofu::detail {

class ShortLock {
  public:
    ShortLock() = default;
    ~ShortLock() = default;
    ShortLock(const ShortLock&) = delete;
    ShortLock& operator=(const ShortLock&) = delete;
    ShortLock(ShortLock&&) = delete;
    ShortLock& operator=(ShortLock&&) = delete;

    void lock() noexcept {
        while (locked_.exchange(true, std::memory_order_acquire)) {
            // Wait on a plain load (no cache-line ping-pong); a holder descheduled mid-section gets our CPU.
            for (int spins = 0; locked_.load(std::memory_order_relaxed); ++spins) {
                if (spins < SpinsBeforeYield) {
                    relax();
                } else {
                    std::this_thread::yield();
                }
            }
        }
    }
    [[nodiscard]] bool try_lock() noexcept {
        return !locked_.load(std::memory_order_relaxed) && !locked_.exchange(true, std::memory_order_acquire);
    }
    void unlock() noexcept { locked_.store(false, std::memory_order_release); }

  private:
    static constexpr int SpinsBeforeYield = 100;

    static void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        asm volatile("yield" ::: "memory");
#endif
    }

    std::atomic<bool> locked_{false};
};

}  // namespace tofu::detail
