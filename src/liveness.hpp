// Dead-peer detection for TCP channels that never kills a live but slow peer (issue #12 item 9).
//
// Idle links: SO_KEEPALIVE, timed from Options::deadPeerTimeoutMs. Links with data the peer owes an answer
// for: no TCP_USER_TIMEOUT, because Linux applies it to zero-window probing too and so closed a receiver
// that was only paused (pool_empty back-pressure). Instead the reactor looks at TCP_INFO once per tick,
// only for channels it wrote to and only until the kernel holds nothing unacknowledged: a peer that
// answers probes with a closed window is alive however long it stays closed; a peer that has answered
// nothing (no ACK at all) for the timeout while data or a window probe waits for it is dead.
#pragma once

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <vector>

#include "platform/os_socket.hpp"
#include "tofu/message.hpp"
#include "tofu/status.hpp"

namespace tofu::detail {

/// Where a channel stands with the watch.
enum class PeerWatch : std::uint8_t {
    off,     // nothing unacknowledged as far as we know
    listed,  // on the watch list
    never,   // not a TCP socket: its peer's death shows as end of stream
    dead,    // the watch gave up on the peer: nothing more can be sent
};

/// Dead-peer timings derived from Options::deadPeerTimeoutMs.
struct DeadPeerTimings {
    using ms = std::chrono::milliseconds;

    ms timeout{0};  // zero: detection off (kernel defaults: no keepalive, ~15 min of retransmissions)
    int keepIdleSec = 0;
    int keepIntvlSec = 0;
    int keepCount = 0;
    int rtoMaxMs = 0;  // cap on retransmission and window-probe intervals (Linux >= 6.15)
    ms tick{0};        // how often watched channels are looked at
    ms silence{0};     // no ACK for this long while one is owed: suspect (confirmed on the next tick)

    [[nodiscard]] bool enabled() const noexcept { return timeout.count() > 0; }
    /// From the option's value: 0 is the default (30 s), DeadPeerTimeoutOff turns detection off,
    /// anything below 1 s counts as 1 s.
    [[nodiscard]] static DeadPeerTimings from(std::uint32_t optionMs) noexcept;
};

/// Keepalive and the retransmission cap on a TCP socket (nothing when detection is off). Failures are
/// ignored: an option the kernel lacks only makes detection slower.
void applyDeadPeerOptions(NativeSocket fd, const DeadPeerTimings& t) noexcept;

/// What TCP_INFO says about one connection, reduced to what the verdict needs.
struct TcpSnapshot {
    bool open = true;           // ESTABLISHED or CLOSE_WAIT: we may still send
    std::uint32_t unacked = 0;  // segments sent and not acknowledged (tcpi_unacked)
    std::uint32_t notSent =
        0;                    // bytes written but not sent, e.g. behind a closed window (tcpi_notsent_bytes)
    std::uint8_t probes = 0;  // probes sent since the last ACK (tcpi_probes; any ACK resets it)
    std::uint32_t lastAckMs = 0;  // since the last ACK from the peer (tcpi_last_ack_recv)
};

/// Reads TCP_INFO; false when fd is not a TCP socket, the call fails, or the platform has no TCP_INFO.
[[nodiscard]] bool readTcpSnapshot(NativeSocket fd, TcpSnapshot& out) noexcept;

enum class PeerState : std::uint8_t {
    settled,  // nothing outstanding: keepalive covers the link from here
    waiting,  // data or a window probe outstanding, and the peer answered recently
    silent,   // an answer is owed and none came for `silence`: dead if the next look agrees
};

/// The verdict on one snapshot. A zero-window probe is answered with an ACK (tcpi_probes back to 0,
/// tcpi_last_ack_recv fresh) by a live receiver however long its window stays closed; a dead peer leaves
/// retransmissions (tcpi_unacked > 0) or probes (tcpi_probes >= 2 with bytes waiting) unanswered.
[[nodiscard]] PeerState classify(const TcpSnapshot& s, std::chrono::milliseconds silence) noexcept;

/// The reactor's list of TCP connections that may have unacknowledged data. Reactor thread only.
class LivenessWatch {
  public:
    using Clock = std::chrono::steady_clock;

    explicit LivenessWatch(std::uint32_t optionMs) noexcept
        : optionMs_(optionMs), t_(DeadPeerTimings::from(optionMs)) {}

    [[nodiscard]] const DeadPeerTimings& timings() const noexcept { return t_; }
    /// Options::deadPeerTimeoutMs as given, for the socket set-up (startConnect, acceptOne).
    [[nodiscard]] std::uint32_t optionMs() const noexcept { return optionMs_; }

    /// The reactor wrote to ch: watch it until the peer acknowledged everything. No syscall; a UDS
    /// channel drops out at its first look (TCP_INFO fails) and is never watched again.
    /// Ch: token(), fd(), watchState() and setWatch() (a Connection; tests use a stand-in).
    template <class Ch>
    void wrote(Ch& ch) {
        if (ch.watchState() == PeerWatch::off && t_.enabled()) {
            if (watched_.empty()) {
                next_ = Clock::now() + t_.tick;
            }
            watched_.push_back(Entry{ch.token(), false});
            ch.setWatch(PeerWatch::listed);
        }
    }

    /// Milliseconds until the next look; -1 when nothing is watched (an idle engine never wakes up).
    [[nodiscard]] int timeoutMs() const noexcept;

    /// When a look is due: reads TCP_INFO of every watched channel; a peer found silent on two looks in a
    /// row is dead: its socket's read side is shut, so the reactor reads what the peer sent before, then
    /// end of file, and closes the channel as for a peer that disconnected (peer_disconnected). A channel
    /// paused for pool_empty learns it when reading resumes. lookup(token): the open channel or nullptr.
    /// Returns how many peers were declared dead.
    template <class Lookup>
    int check(Lookup&& lookup);

  private:
    struct Entry {
        std::uint64_t token;
        bool silent;  // the previous look found the peer silent
    };

    std::uint32_t optionMs_;
    DeadPeerTimings t_;
    std::vector<Entry> watched_;
    std::vector<Entry> still_;  // reused between looks
    Clock::time_point next_{};
};

/// Shuts the read side of a dead peer's socket: pending bytes stay readable, then recv() returns 0.
void declareDead(NativeSocket fd) noexcept;

/// The status for a failed send/recv: ETIMEDOUT is the kernel's keepalive giving up on a dead peer, which
/// closes the channel like the reactor's own verdict (peer_disconnected); anything else is `otherwise`.
[[nodiscard]] inline AmpeStatus ioFailureStatus(int err, AmpeStatus otherwise) noexcept {
    return err == ETIMEDOUT ? AmpeStatus::peer_disconnected : otherwise;
}

template <class Lookup>
int LivenessWatch::check(Lookup&& lookup) {
    if (watched_.empty()) {
        return 0;
    }
    const Clock::time_point now = Clock::now();
    if (now < next_) {
        return 0;
    }
    next_ = now + t_.tick;
    int dead = 0;
    still_.clear();
    for (const Entry& e : watched_) {
        auto* ch = lookup(e.token);
        if (ch == nullptr) {
            continue;  // closed since it was listed
        }
        TcpSnapshot s;
        if (!readTcpSnapshot(ch->fd(), s)) {
            ch->setWatch(PeerWatch::never);  // UDS: a local peer's death is seen as EOF/EPIPE
            continue;
        }
        switch (classify(s, t_.silence)) {
            case PeerState::settled:
                ch->setWatch(PeerWatch::off);
                break;
            case PeerState::waiting:
                still_.push_back(Entry{e.token, false});
                break;
            case PeerState::silent:
                if (!e.silent) {
                    // Once is not enough: the answer to a window probe sent just now may be on its way.
                    still_.push_back(Entry{e.token, true});
                    break;
                }
                ch->setWatch(PeerWatch::dead);  // its end of stream closes it, queued messages or not
                declareDead(ch->fd());
                ++dead;
                break;
        }
    }
    watched_.swap(still_);
    return dead;
}

}  // namespace tofu::detail
