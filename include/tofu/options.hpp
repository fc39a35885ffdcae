// tofu: engine options and allocation strategy.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <memory_resource>
#include <string_view>

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
    /// POSIX poll(), available everywhere (WSAPoll on Windows, where it is also what automatic picks).
    poll,
    /// BSD/macOS kqueue.
    kqueue,
};

/// How much an engine log line matters (Options::log).
enum class LogLevel : std::uint8_t {
    debug,    ///< routine events: a listener opened
    info,     ///< the engine recovered by itself: accepting again after a back-off
    warning,  ///< a peer was disconnected (invalid frame, dead peer), accepting paused, a listener failed
    error,    ///< a listener broke and closed
};

/// Receives the engine's log (Options::log): context as given in Options::logContext, the level and one
/// line of text (valid during the call only). Called on the reactor thread: it must not block, nor call
/// blocking engine calls (waitReceive, destroy, channelStats, the Reactor's destruction); an exception it
/// throws is swallowed.
using LogCallback = void (*)(void* context, LogLevel level, std::string_view text);

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
    /// How long a TCP peer may leave the engine without any answer before its channel is closed, in
    /// milliseconds; 0 means the default (30 s), DeadPeerTimeoutOff turns detection off, values under
    /// 1000 count as 1000.
    /// - Busy link (data or a window probe waiting for an ACK; Linux, checked through TCP_INFO once a
    ///   second): closed within this time of the peer's last ACK. On Linux before 6.15 (no
    ///   TCP_RTO_MAX_MS), a link cut after the peer's window had been closed for minutes can take up to
    ///   4 minutes (two window probes backed off to 2 minutes each).
    /// - Idle link: TCP keepalive, first probe after a third of it, then 3 probes a sixth apart (5/6 of
    ///   it in whole seconds, at least 4 s; 25 s by default).
    /// The channel closes as if the peer had disconnected: messages still queued come back with
    /// peer_disconnected, then channel_closed (a channel paused by pool_empty, once it reads again).
    /// A peer that is alive but does not read (its receive window closed, e.g. a tofu receiver paused by
    /// pool_empty) answers the kernel's window probes and is never closed, however long it pauses.
    /// Unix sockets need none of this: a local peer's death is seen at once.
    std::uint32_t deadPeerTimeoutMs = 0;
    /// How long a HelloRequest may take to connect, in milliseconds, from enqueueToPeer() to a connected
    /// socket: name resolution, each address tried, and retries while a UDS listener's backlog is full.
    /// 0 means the default (20 s); ConnectTimeoutOff leaves it to the kernel (a TCP connect gives up after
    /// about 2 minutes of SYN retries; a full UDS backlog is retried for ever). On expiry the Hello comes
    /// back with connect_failed and an ~error header saying so, then the channel's close notice.
    std::uint32_t connectTimeoutMs = 0;
    /// The engine log, off when nullptr (the default): engine events the application would otherwise never
    /// see — a listener that failed (address, OS error), a peer disconnected for an invalid frame (address,
    /// what was wrong) or found dead, accepting paused for lack of descriptors and resumed. Never one line
    /// per message. See LogCallback for the rules the callback must keep.
    LogCallback log = nullptr;
    /// Passed to log as its first argument.
    void* logContext = nullptr;
};

/// Options::deadPeerTimeoutMs value that turns dead-peer detection off: no keepalive, and a busy link
/// to a vanished peer stays open until the kernel gives up retransmitting (about 15 min on Linux).
inline constexpr std::uint32_t DeadPeerTimeoutOff = std::numeric_limits<std::uint32_t>::max();

/// Options::connectTimeoutMs value that sets no limit of the engine's own.
inline constexpr std::uint32_t ConnectTimeoutOff = std::numeric_limits<std::uint32_t>::max();

/// The defaults spelled out: pool of 16 to 64 messages, default resource, automatic poller, 4 MiB,
/// dead peers noticed within 30 s, connects given 20 s, no engine log.
inline constexpr Options DefaultOptions{16,     64,      nullptr, PollerKind::automatic, 4U << 20, 30'000,
                                        20'000, nullptr, nullptr};

/// waitReceive() timeout that waits for ever.
inline constexpr std::uint64_t waitReceive_INFINITE_TIMEOUT = std::numeric_limits<std::uint64_t>::max();
/// waitReceive() timeout as a std::chrono duration that waits for ever.
inline constexpr std::chrono::nanoseconds waitReceive_FOREVER = std::chrono::nanoseconds::max();
/// One second as a waitReceive() timeout (nanoseconds); multiply it for longer waits.
inline constexpr std::uint64_t waitReceive_SEC_TIMEOUT = 1'000'000'000ULL;

}  // namespace tofu
