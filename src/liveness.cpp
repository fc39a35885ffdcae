#include "liveness.hpp"  // platform/os_socket.hpp first: Windows' mstcpip.h needs winsock2.h

#if defined(__linux__)
#include <linux/tcp.h>  // the kernel's struct tcp_info: glibc's stops before tcpi_notsent_bytes
#elif defined(_WIN32)
#include <mstcpip.h>  // SIO_KEEPALIVE_VALS
#else
#include <netinet/tcp.h>
#endif

#include <algorithm>
#include <cstddef>

#include "tofu/options.hpp"

namespace tofu::detail {

namespace {

#if defined(__linux__) && !defined(TCP_RTO_MAX_MS)
constexpr int TCP_RTO_MAX_MS = 44;  // Linux 6.15; older kernels refuse it (ENOPROTOOPT), which is harmless
#endif

constexpr int KeepCount = 3;
constexpr int MaxKeepSec = 32767;  // the kernel's limit for TCP_KEEPIDLE and TCP_KEEPINTVL

}  // namespace

DeadPeerTimings DeadPeerTimings::from(std::uint32_t optionMs) noexcept {
    DeadPeerTimings t;
    if (optionMs == DeadPeerTimeoutOff) {
        return t;
    }
    const std::uint32_t msv = optionMs == 0 ? DefaultOptions.deadPeerTimeoutMs : std::max(optionMs, 1000U);
    const auto sec = static_cast<int>(std::min<std::uint32_t>(msv / 1000, 3 * MaxKeepSec));
    t.timeout = ms(msv);
    // Idle: first probe after a third of the timeout, three more a sixth apart: dead after 5/6 of it
    // (whole seconds, so never under 4 s).
    t.keepIdleSec = std::clamp(sec / 3, 1, MaxKeepSec);
    t.keepIntvlSec = std::clamp(sec / 6, 1, MaxKeepSec);
    t.keepCount = KeepCount;
    // A retransmission or window probe at least every third of the timeout, so that a link cut while the
    // peer's window is closed shows as two unanswered probes within the timeout, not after intervals
    // backed off to 120 s.
    t.rtoMaxMs = static_cast<int>(std::clamp<std::uint32_t>(msv / 3, 1000, 120'000));
    // Looked at every second (a quarter of the timeout when shorter). Silent from two and a half ticks
    // short of the timeout: the first look that sees it comes up to a tick later, the confirming look one
    // more tick later, plus the loop's own delays: a dead peer is noticed within the timeout of its last ACK.
    t.tick = std::min(ms(1000), t.timeout / 4);
    t.silence = t.timeout - 2 * t.tick - t.tick / 2;
    return t;
}

void applyDeadPeerOptions(NativeSocket fd, const DeadPeerTimings& t) noexcept {
    if (!t.enabled()) {
        return;
    }
#if defined(_WIN32)
    // Windows: keepalive idle time and interval in one ioctl; the probe count is the system's (10).
    tcp_keepalive ka{1, static_cast<ULONG>(t.keepIdleSec) * 1000, static_cast<ULONG>(t.keepIntvlSec) * 1000};
    DWORD got = 0;
    ::WSAIoctl(fd, SIO_KEEPALIVE_VALS, &ka, sizeof ka, nullptr, 0, &got, nullptr, nullptr);
#else
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
#if defined(TCP_KEEPIDLE) && defined(TCP_KEEPINTVL) && defined(TCP_KEEPCNT)
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &t.keepIdleSec, sizeof t.keepIdleSec);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &t.keepIntvlSec, sizeof t.keepIntvlSec);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &t.keepCount, sizeof t.keepCount);
#endif
#if defined(__linux__)
    ::setsockopt(fd, IPPROTO_TCP, TCP_RTO_MAX_MS, &t.rtoMaxMs, sizeof t.rtoMaxMs);
#endif
    // Deliberately no TCP_USER_TIMEOUT: since Linux 5.11 it also ends zero-window probing that the peer
    // answers, i.e. it closes a receiver that is alive but not reading (back-pressure).
#endif
}

bool readTcpSnapshot(NativeSocket fd, TcpSnapshot& out) noexcept {
#if defined(__linux__)
    // Kernel TCP states (include/net/tcp_states.h), not exported by the uapi header.
    constexpr std::uint8_t Established = 1;
    constexpr std::uint8_t CloseWait = 8;
    tcp_info ti{};
    socklen_t len = sizeof ti;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) {
        return false;  // EOPNOTSUPP on a Unix socket
    }
    out.open = ti.tcpi_state == Established || ti.tcpi_state == CloseWait;
    out.unacked = ti.tcpi_unacked;
    out.probes = ti.tcpi_probes;
    out.lastAckMs = ti.tcpi_last_ack_recv;
    // The kernel fills only the fields it knows (tcpi_notsent_bytes: 4.6). Without it, a probe outstanding
    // with nothing in flight can only be a window probe or a keepalive: count it as a window probe.
    if (len >= offsetof(tcp_info, tcpi_notsent_bytes) + sizeof ti.tcpi_notsent_bytes) {
        out.notSent = ti.tcpi_notsent_bytes;
    } else {
        out.notSent = (ti.tcpi_probes > 0 && ti.tcpi_unacked == 0) ? 1 : 0;
    }
    return true;
#else
    (void)fd;
    (void)out;
    return false;
#endif
}

PeerState classify(const TcpSnapshot& s, std::chrono::milliseconds silence) noexcept {
    if (!s.open) {
        return PeerState::settled;  // closing or closed: the socket reports it (EOF, error) by itself
    }
    // Retransmissions or zero-window probes wait for an answer. One probe may go unanswered by a live
    // receiver: it answers an out-of-window segment at most once per tcp_invalid_ratelimit (500 ms), and
    // early probes come 200 ms and 400 ms apart; two in a row cannot both fall in that gap. Keepalive
    // probes (nothing in flight, nothing waiting) are the kernel's business: it ends the connection after
    // the last one.
    const bool owed = s.unacked > 0 || (s.probes >= 2 && s.notSent > 0);
    if (owed && std::chrono::milliseconds(s.lastAckMs) >= silence) {
        return PeerState::silent;
    }
    if (s.unacked == 0 && s.notSent == 0) {
        return PeerState::settled;
    }
    return PeerState::waiting;
}

int LivenessWatch::timeoutMs() const noexcept {
    if (watched_.empty()) {
        return -1;
    }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(next_ - Clock::now()).count();
    return left <= 0 ? 0 : static_cast<int>(left);
}

void declareDead(NativeSocket fd) noexcept {
    shutdownReceive(fd);
}

}  // namespace tofu::detail
