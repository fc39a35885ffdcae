// tofu: engine options and allocation strategy.
#pragma once

#include <cstdint>
#include <limits>
#include <memory_resource>

namespace tofu {

/// How Ampe::get() obtains a message.
enum class AllocationStrategy : std::uint8_t {
    /// Only from the pool: an empty MessagePtr when the pool is empty.
    poolOnly,
    /// From the pool, or a newly allocated message when the pool is empty.
    always,
};

/// Which readiness backend the reactor thread uses.
enum class PollerKind : std::uint8_t {
    /// epoll on Linux, kqueue on BSD/macOS, poll elsewhere; the TOFU_POLLER environment
    /// variable ("epoll", "poll", "kqueue") overrides it.
    automatic,
    /// Linux epoll.
    epoll,
    /// POSIX poll(), available everywhere.
    poll,
    /// BSD/macOS kqueue.
    kqueue,
};

/// Settings of an engine, given to Reactor::Create(); zero fields take their defaults.
struct Options {
    /// Messages the pool starts with; 0 means the default (16).
    std::uint16_t initialPoolMsgs = 0;
    /// Most messages the pool keeps; 0 means the default (64); raised to initialPoolMsgs if lower.
    std::uint16_t maxPoolMsgs = 0;
    /// Where messages and engine memory come from; nullptr means std::pmr::get_default_resource().
    std::pmr::memory_resource* allocator = nullptr;
    /// Readiness backend of the reactor thread.
    PollerKind poller = PollerKind::automatic;
    /// Most bytes (frames: 16-byte header + text headers + body) one channel may hold waiting for a
    /// peer that does not read; 0 means the default (4 MiB). A message beyond it comes back to its
    /// sender unsent (origin engine, status send_failed) and the channel stays open. One message is
    /// always accepted into an empty queue; ByeRequest/ByeResponse and oob messages are never refused.
    std::uint32_t maxSendQueueBytes = 0;
};

/// The defaults spelled out: pool of 16 to 64 messages, default resource, automatic poller, 4 MiB.
inline constexpr Options DefaultOptions{16, 64, nullptr, PollerKind::automatic, 4U << 20};

/// waitReceive() timeout that waits for ever.
inline constexpr std::uint64_t waitReceive_INFINITE_TIMEOUT = std::numeric_limits<std::uint64_t>::max();
/// One second as a waitReceive() timeout (nanoseconds); multiply it for longer waits.
inline constexpr std::uint64_t waitReceive_SEC_TIMEOUT = 1'000'000'000ULL;

}  // namespace tofu
