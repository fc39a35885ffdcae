// tofu: what a running engine can tell about itself — its counters (Reactor::stats()), a snapshot of its
// channels (Reactor::channelStats()) and their JSON rendering, for a person or a scraper.
#pragma once

#include "tofu/export.hpp"

#include <chrono>
#include <cstdint>
#include <span>
#include <string>

#include "tofu/message.hpp"

namespace tofu {

/// The counters of one engine since it started: totals except where a field says "now". The reactor thread
/// writes them (relaxed atomics, no lock), stats() reads them from any thread; fields are read one by one,
/// so a snapshot taken under traffic may be a few messages apart between fields. The traffic counters (the
/// first group) and poolFreeHigh are 0 in a build with TOFU_STATS=OFF (then `traffic` is false).
struct EngineStats {
    bool traffic = true;  ///< false: built with TOFU_STATS=OFF, the traffic counters are not kept

    // ---- traffic (frames of every kind: Hello, Bye, application messages) ----
    std::uint64_t messagesIn = 0;   ///< frames received whole from peers
    std::uint64_t bytesIn = 0;      ///< their size on the wire (16-byte header + text headers + body)
    std::uint64_t messagesOut = 0;  ///< frames written whole to peers
    std::uint64_t bytesOut = 0;     ///< their size on the wire
    std::uint64_t sendCalls = 0;    ///< sendmsg() calls that wrote something
    std::uint64_t sendFrames =
        0;  ///< frames gathered into those calls (sendFrames / sendCalls: frames per call)

    // ---- channels ----
    std::uint64_t connectionsOpened = 0;  ///< connections established: accepted and connected
    std::uint64_t closedBye = 0;          ///< connections closed by a bye (ByeRequest/Response, ByeSignal)
    std::uint64_t closedPeer = 0;       ///< ... because the peer went away (end of stream, reset, dead peer)
    std::uint64_t closedError = 0;      ///< ... by an error (invalid frame, other I/O or allocation failure)
    std::uint64_t closedDestroy = 0;    ///< ... by destroy() of their group or of the engine
    std::uint64_t deadPeers = 0;        ///< peers found dead by dead-peer detection (closed as closedPeer)
    std::uint64_t listenersOpened = 0;  ///< WelcomeRequests that opened a listener
    std::uint64_t listenersClosed = 0;  ///< listeners closed (bye, accept failure, destroy)
    std::uint64_t listenFailures = 0;   ///< WelcomeRequests that could not open one (address in use...)
    std::uint64_t connectFailures = 0;  ///< HelloRequests that got no connection (refused, timeout, name)
    std::uint64_t acceptBackoffs = 0;   ///< accept pauses for lack of descriptors or memory (EMFILE...)

    // ---- refusals ----
    std::uint64_t sendRefused = 0;      ///< messages refused by a full send queue (returned with send_failed)
    std::uint64_t framesRefused = 0;    ///< invalid frames from peers (each closed its connection)
    std::uint64_t poolEmptyPauses = 0;  ///< times a connection stopped reading for want of a pool message

    // ---- pool ----
    std::uint64_t poolInitial = 0;    ///< Options::initialPoolMsgs as applied
    std::uint64_t poolMax = 0;        ///< Options::maxPoolMsgs as applied: the most messages it keeps
    std::uint64_t poolFree = 0;       ///< messages in the pool now
    std::uint64_t poolFreeHigh = 0;   ///< the most messages the pool has held at once (TOFU_STATS=OFF: 0)
    std::uint64_t poolAllocated = 0;  ///< allocated because the pool was empty (get(always))
};

/// One channel as the reactor saw it when it answered Reactor::channelStats().
struct ChannelStats {
    /// What the channel is.
    enum class Kind : std::uint8_t {
        listener,    ///< a listening socket (WelcomeRequest)
        connector,   ///< a HelloRequest still connecting
        connection,  ///< a connected socket (accepted or connected)
    };

    ChannelNumber channel = 0;
    Kind kind = Kind::connection;
    /// The channel's state, e.g. "listening", "backing-off", "resolving", "connecting", "retrying",
    /// "awaiting-hello", "open", "bye-sent", "peer-gone", "paused", "ended", "dead-peer".
    std::string state;
    /// Listener: its own address; connector: the address asked for; connection: the peer's address
    /// (tcp|IP|PORT or uds|PATH, empty when the OS does not say). Plain ASCII: control bytes, bytes above
    /// 0x7E and backslashes are written \xNN.
    std::string address;
    std::uint64_t queuedMessages = 0;  ///< in its send queue now (a connector: the Hello and what follows)
    std::uint64_t queuedBytes = 0;     ///< their size on the wire
    std::uint64_t messagesIn = 0;      ///< frames received (0 in a TOFU_STATS=OFF build)
    std::uint64_t messagesOut = 0;     ///< frames written whole (0 in a TOFU_STATS=OFF build)
    std::uint64_t bytesIn = 0;         ///< bytes of those frames
    std::uint64_t bytesOut = 0;        ///< bytes of those frames
    std::chrono::system_clock::time_point since{};  ///< when the channel was opened (connected, accepted)
};

/// The name of a ChannelStats::Kind: "listener", "connector", "connection".
[[nodiscard]] TOFU_API std::string_view kindName(ChannelStats::Kind kind) noexcept;

/// The JSON rendering, stable for scrapers (documented in docs/guide/observing.md):
/// {"version":1,"engine":{...every EngineStats field by its C++ name...},"channels":[{...}, ...]}.
/// Counters are integers, `traffic` a boolean, strings are escaped, `since` is milliseconds since the
/// Unix epoch. Fields are only ever added under version 1.
[[nodiscard]] TOFU_API std::string toJson(const EngineStats& engine,
                                          std::span<const ChannelStats> channels = {});

}  // namespace tofu
