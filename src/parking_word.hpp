// A 32-bit word a thread can sleep on until another thread changes it: the Linux futex (no lock, one
// system call to sleep and one to wake, none when nobody sleeps), elsewhere a mutex and condition variable
// behind the same protocol.
#pragma once

#include <atomic>
#include <cstdint>
#if !defined(__linux__)
#include <condition_variable>
#include <mutex>
#endif

namespace tofu::detail {

class ParkingWord {
  public:
    /// No limit for wait().
    static constexpr std::uint64_t Forever = UINT64_MAX;

    ParkingWord() = default;
    ~ParkingWord() = default;
    ParkingWord(const ParkingWord&) = delete;  // threads sleep on its address
    ParkingWord& operator=(const ParkingWord&) = delete;
    ParkingWord(ParkingWord&&) = delete;
    ParkingWord& operator=(ParkingWord&&) = delete;

    std::atomic<std::uint32_t> word{0};

    /// Sleeps while word == expected, at most timeout_ns; may return early (the caller looks again).
    void wait(std::uint32_t expected, std::uint64_t timeout_ns) noexcept;
    /// Wakes every thread sleeping in wait() (the caller changed word first).
    void wakeAll() noexcept;

  private:
#if !defined(__linux__)
    std::mutex mutex_;
    std::condition_variable cv_;
#endif
};

}  // namespace tofu::detail
