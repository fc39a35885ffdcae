// Dead-peer detection (src/liveness.*): the timings derived from Options::deadPeerTimeoutMs, the verdict on
// TCP_INFO snapshots, the socket options the engine sets (never TCP_USER_TIMEOUT), and the watch list.
// The behaviour end to end (a paused reader keeps its channel) is in tests/hardening/liveness_tests.cpp;
// a cut link in tests/hardening/netns.sh.
#if !defined(_WIN32)
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "liveness.hpp"
#include "socket.hpp"
#include "test_platform.hpp"
#include "tofu/tofu.hpp"

using namespace tofu;
using namespace tofu::detail;
using namespace std::chrono_literals;

namespace {

#if !defined(_WIN32)
int intOption(int fd, int level, int name) {
    int v = -1;
    socklen_t len = sizeof v;
    REQUIRE(::getsockopt(fd, level, name, &v, &len) == 0);
    return v;
}

// A connected loopback TCP pair made with the engine's own socket calls.
struct TcpPair {
    UniqueFd listener, client, server;

    explicit TcpPair(std::uint32_t deadPeerTimeoutMs) {
        const std::uint16_t port = findFreeTcpPort();
        REQUIRE(createListener(Configurator(TCPServerConfigurator("127.0.0.1", port)), listener) ==
                AmpeStatus::success);
        Endpoint ep;
        REQUIRE(numericEndpoint("127.0.0.1", port, false, ep));
        bool inProgress = false;
        REQUIRE(startConnect(ep, client, inProgress, deadPeerTimeoutMs) == AmpeStatus::success);
        pollfd p{listener.get(), POLLIN, 0};
        REQUIRE(::poll(&p, 1, 5000) == 1);
        REQUIRE(acceptOne(listener.get(), server, deadPeerTimeoutMs) == AcceptResult::accepted);
        pollfd w{client.get(), POLLOUT, 0};
        REQUIRE(::poll(&w, 1, 5000) == 1);
    }
};
#endif

TcpSnapshot snap(std::uint32_t unacked, std::uint32_t notSent, std::uint8_t probes, std::uint32_t lastAckMs) {
    TcpSnapshot s;
    s.unacked = unacked;
    s.notSent = notSent;
    s.probes = probes;
    s.lastAckMs = lastAckMs;
    return s;
}

}  // namespace

TEST_CASE("liveness: timings follow Options::deadPeerTimeoutMs", "[liveness]") {
    SECTION("0 is the default, 30 s: keepalive 10 s + 3 x 5 s, looked at every second") {
        const DeadPeerTimings t = DeadPeerTimings::from(0);
        CHECK(t.enabled());
        CHECK(t.timeout == 30s);
        CHECK(t.keepIdleSec == 10);
        CHECK(t.keepIntvlSec == 5);
        CHECK(t.keepCount == 3);
        CHECK(t.rtoMaxMs == 10'000);
        CHECK(t.tick == 1s);
        CHECK(t.silence == 27'500ms);  // suspect from 27.5 s, confirmed a tick later: within the 30 s
        CHECK(DefaultOptions.deadPeerTimeoutMs == 30'000);
        CHECK(DeadPeerTimings::from(DefaultOptions.deadPeerTimeoutMs).timeout == t.timeout);
    }
    SECTION("DeadPeerTimeoutOff turns it off") {
        CHECK_FALSE(DeadPeerTimings::from(DeadPeerTimeoutOff).enabled());
    }
    SECTION("below a second counts as a second; keepalive never under 1 s steps") {
        const DeadPeerTimings t = DeadPeerTimings::from(200);
        CHECK(t.timeout == 1s);
        CHECK(t.keepIdleSec == 1);
        CHECK(t.keepIntvlSec == 1);
        CHECK(t.rtoMaxMs == 1000);  // the kernel's lower limit
        CHECK(t.tick == 250ms);
        CHECK(t.silence == 375ms);
    }
    SECTION("long timeouts stay within the kernel's limits") {
        const DeadPeerTimings t = DeadPeerTimings::from(DeadPeerTimeoutOff - 1);
        CHECK(t.enabled());
        CHECK(t.keepIdleSec == 32767);
        CHECK(t.keepIntvlSec <= 32767);
        CHECK(t.rtoMaxMs == 120'000);
        CHECK(t.tick == 1s);
    }
}

TEST_CASE("liveness: the verdict on TCP_INFO tells a slow reader from a dead peer", "[liveness]") {
    const auto silence = 28s;
    // Nothing outstanding: idle, keepalive's business.
    CHECK(classify(snap(0, 0, 0, 100'000), silence) == PeerState::settled);
    // A keepalive probe unanswered, nothing to send: still the kernel's (it gives up after the last probe).
    CHECK(classify(snap(0, 0, 2, 100'000), silence) == PeerState::settled);
    // Data in flight, acknowledged recently.
    CHECK(classify(snap(5, 0, 0, 20), silence) == PeerState::waiting);
    // A live receiver with a closed window, between probes: bytes wait, no probe outstanding. However
    // long ago its last ACK (probe intervals back off up to 2 minutes on older kernels), it owes nothing.
    CHECK(classify(snap(0, 65'536, 0, 110'000), silence) == PeerState::waiting);
    // The same with one probe unanswered: a live receiver answers out-of-window segments at most every
    // 500 ms (tcp_invalid_ratelimit), so one early probe may go unanswered; it owes nothing yet.
    CHECK(classify(snap(0, 65'536, 1, 110'000), silence) == PeerState::waiting);
    // Two probes in a row unanswered, just after the second left: silent for one look (its answer may be
    // on the way; the watch wants two looks in a row).
    CHECK(classify(snap(0, 65'536, 2, 110'000), silence) == PeerState::silent);
    // Retransmissions unanswered for the silence: a dead peer or a cut link.
    CHECK(classify(snap(3, 0, 0, 28'000), silence) == PeerState::silent);
    CHECK(classify(snap(3, 4096, 0, 29'000), silence) == PeerState::silent);
    // Window probes unanswered: a peer that died (or a link cut) while its window was closed.
    CHECK(classify(snap(0, 4096, 4, 40'000), silence) == PeerState::silent);
    // A closing socket reports itself through EOF or an error.
    TcpSnapshot closing = snap(3, 0, 0, 100'000);
    closing.open = false;
    CHECK(classify(closing, silence) == PeerState::settled);
}

TEST_CASE("liveness: engine sockets get keepalive and never TCP_USER_TIMEOUT", "[liveness]") {
#if defined(_WIN32)
    TOFU_SKIP(
        "Windows: TCP_INFO and the Linux keepalive options are not there (the dead-peer watch is Linux "
        "only; Windows gets keepalive through SIO_KEEPALIVE_VALS)");
#else
    SECTION("default") {
        TcpPair p(0);
        for (int fd : {p.client.get(), p.server.get()}) {
            CHECK(intOption(fd, SOL_SOCKET, SO_KEEPALIVE) == 1);
            CHECK(intOption(fd, IPPROTO_TCP, TCP_KEEPIDLE) == 10);
            CHECK(intOption(fd, IPPROTO_TCP, TCP_KEEPINTVL) == 5);
            CHECK(intOption(fd, IPPROTO_TCP, TCP_KEEPCNT) == 3);
            // The defect of issue #12: a user timeout also ends zero-window probing of a live receiver.
            CHECK(intOption(fd, IPPROTO_TCP, TCP_USER_TIMEOUT) == 0);
            CHECK(intOption(fd, IPPROTO_TCP, TCP_NODELAY) != 0);
        }
    }
    SECTION("a short timeout") {
        TcpPair p(6000);
        CHECK(intOption(p.client.get(), IPPROTO_TCP, TCP_KEEPIDLE) == 2);
        CHECK(intOption(p.client.get(), IPPROTO_TCP, TCP_KEEPINTVL) == 1);
        CHECK(intOption(p.server.get(), IPPROTO_TCP, TCP_USER_TIMEOUT) == 0);
    }
    SECTION("off: the kernel's defaults") {
        TcpPair p(DeadPeerTimeoutOff);
        CHECK(intOption(p.client.get(), SOL_SOCKET, SO_KEEPALIVE) == 0);
        CHECK(intOption(p.server.get(), SOL_SOCKET, SO_KEEPALIVE) == 0);
        CHECK(intOption(p.server.get(), IPPROTO_TCP, TCP_USER_TIMEOUT) == 0);
    }
#endif
}

TEST_CASE("liveness: TCP_INFO snapshots of a live connection", "[liveness]") {
#if defined(_WIN32)
    TOFU_SKIP(
        "Windows: TCP_INFO and the Linux keepalive options are not there (the dead-peer watch is Linux "
        "only; Windows gets keepalive through SIO_KEEPALIVE_VALS)");
#else
    TcpPair p(0);
    TcpSnapshot s;
    REQUIRE(readTcpSnapshot(p.client.get(), s));
    CHECK(s.open);
    CHECK(classify(s, 28s) == PeerState::settled);

    // The reader stops reading: the writer fills both buffers, then bytes wait behind a closed window.
    int small = 4096;
    ::setsockopt(p.server.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    std::vector<char> chunk(64 * 1024, 'x');
    std::size_t written = 0;
    while (::send(p.client.get(), chunk.data(), chunk.size(), MSG_NOSIGNAL | MSG_DONTWAIT) > 0) {
        written += chunk.size();
    }
    REQUIRE(written > 0);
    REQUIRE(readTcpSnapshot(p.client.get(), s));
    CHECK(s.open);
    CHECK(s.unacked + s.notSent > 0);
    CHECK(classify(s, 28s) != PeerState::settled);

    // A Unix socket has no TCP_INFO: the watch drops it at its first look.
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK_FALSE(readTcpSnapshot(sv[0], s));
    ::close(sv[0]);
    ::close(sv[1]);
#endif
}

#if !defined(_WIN32)
namespace {
// What the watch needs of a connection.
struct WatchedStandIn {
    UniqueFd sock;
    PeerWatch state = PeerWatch::off;
    [[nodiscard]] std::uint64_t token() const noexcept { return (std::uint64_t{1} << 16) | 7u; }
    [[nodiscard]] int fd() const noexcept { return sock.get(); }
    [[nodiscard]] PeerWatch watchState() const noexcept { return state; }
    void setWatch(PeerWatch w) noexcept { state = w; }
};
}  // namespace
#endif

TEST_CASE("liveness: the watch keeps a channel until its peer acknowledged everything, then sleeps",
          "[liveness]") {
#if defined(_WIN32)
    TOFU_SKIP(
        "Windows: TCP_INFO and the Linux keepalive options are not there (the dead-peer watch is Linux "
        "only; Windows gets keepalive through SIO_KEEPALIVE_VALS)");
#else
    LivenessWatch watch(1000);  // looks every 250 ms
    CHECK(watch.timeoutMs() == -1);
    TcpPair p(1000);
    WatchedStandIn ch;
    ch.sock = std::move(p.client);
    auto lookup = [&ch](std::uint64_t token) { return token == ch.token() ? &ch : nullptr; };

    REQUIRE(::send(ch.fd(), "ping", 4, MSG_NOSIGNAL) == 4);
    watch.wrote(ch);
    watch.wrote(ch);  // listed once
    CHECK(ch.state == PeerWatch::listed);
    const int first = watch.timeoutMs();
    CHECK(first >= 0);
    CHECK(first <= 250);
    CHECK(watch.check(lookup) == 0);  // not due yet: nothing happens
    CHECK(ch.state == PeerWatch::listed);

    // Loopback acknowledges at once: the first look settles it and the watch has nothing left.
    std::this_thread::sleep_for(std::chrono::milliseconds(watch.timeoutMs() + 1));
    CHECK(watch.check(lookup) == 0);
    CHECK(ch.state == PeerWatch::off);
    CHECK(watch.timeoutMs() == -1);

    // A closed channel (lookup gives nothing) leaves the list without a look at its socket.
    watch.wrote(ch);
    std::this_thread::sleep_for(std::chrono::milliseconds(watch.timeoutMs() + 1));
    CHECK(watch.check([](std::uint64_t) -> WatchedStandIn* { return nullptr; }) == 0);
    CHECK(watch.timeoutMs() == -1);

    // Off: nothing is ever listed.
    LivenessWatch off(DeadPeerTimeoutOff);
    ch.state = PeerWatch::off;
    off.wrote(ch);
    CHECK(ch.state == PeerWatch::off);
    CHECK(off.timeoutMs() == -1);
#endif
}

TEST_CASE("liveness: the kernel giving up on a dead peer closes like the reactor's verdict", "[liveness]") {
    // Keepalive's last unanswered probe ends the socket with ETIMEDOUT; the verdict path ends in EOF.
    CHECK(ioFailureStatus(ETIMEDOUT, AmpeStatus::recv_failed) == AmpeStatus::peer_disconnected);
    CHECK(ioFailureStatus(ETIMEDOUT, AmpeStatus::send_failed) == AmpeStatus::peer_disconnected);
    CHECK(ioFailureStatus(ECONNRESET, AmpeStatus::recv_failed) == AmpeStatus::recv_failed);
    CHECK(ioFailureStatus(EPIPE, AmpeStatus::send_failed) == AmpeStatus::send_failed);
}
