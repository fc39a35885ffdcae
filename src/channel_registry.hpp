// The channel registry: which channel numbers are in use and by which group.
//
// Thread-safe (one mutex): application threads allocate numbers for Welcome/Hello requests and check
// the channel of every message they send; the reactor allocates for accepted sockets and removes the
// number of every channel it closes (the original kept closed numbers until the group died, so a message
// to a closed channel vanished).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>

#include "tofu/message.hpp"
#include "tofu/status.hpp"

namespace tofu::detail {

class ChannelRegistry {
  public:
    /// Numbers removed recently are not handed out again before this many other removals.
    static constexpr std::size_t RecentCapacity = 1024;
    /// Every number but 0 (unassigned) and 0xFFFF (the notifier).
    static constexpr std::size_t Usable = 65534;

    ChannelRegistry();

    /// A fresh random number owned by `owner`; 0 when every usable number is taken.
    [[nodiscard]] ChannelNumber allocate(const void* owner);
    /// Frees cn (no-op when it is not active) and remembers it as recently removed.
    void remove(ChannelNumber cn) noexcept;
    /// success, invalid_channel_number (not active) or invalid_mchn_group (another owner's).
    [[nodiscard]] AmpeStatus check(ChannelNumber cn, const void* owner) const noexcept;
    [[nodiscard]] std::size_t count() const noexcept;

  private:
    mutable std::mutex mutex_;
    // Written under the mutex, read lock-free by check() on every enqueueToPeer (hot path).
    std::array<std::atomic<const void*>, 65536> owners_{};
    std::array<bool, 65536> recent_{};
    std::array<ChannelNumber, RecentCapacity> ring_{};
    std::size_t ringHead_ = 0;
    std::size_t ringCount_ = 0;
    std::size_t active_ = 0;
    std::minstd_rand rng_;
};

}  // namespace tofu::detail
