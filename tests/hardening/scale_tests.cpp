// Scale (issue #6): 10,000 concurrent TCP connections to one engine. The clients are raw non-blocking
// sockets driven by epoll in the test thread, speaking the wire format by hand; each does Hello ->
// HelloResponse, then AppRequest -> AppResponse, and stays connected (idle).
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/wait.h>

#include <csignal>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "hardening_support.hpp"

using namespace tofu;
using namespace tofu::hardening;

namespace {

enum class St : std::uint8_t { idle, connecting, waitHello, waitResponse, done, failed };

struct Conn {
    int fd = -1;
    St st = St::idle;
    std::uint8_t got = 0;
    std::uint8_t buf[46] = {};
};

constexpr std::uint64_t helloId(std::size_t i) {
    return 1 + i;
}
constexpr std::uint64_t requestId(std::size_t i) {
    return 1'000'000 + i;
}

/// Reads what is there into c.buf; true once a whole frame is in (header + thl + bl), false while more is
/// needed. Sets c.st = failed on EOF, error, or a frame too large for the buffer.
bool readFrame(Conn& c) {
    for (;;) {
        std::size_t want = HeaderSize;
        if (c.got >= HeaderSize) {
            const RawHeader h = parseHeader(c.buf);
            want = HeaderSize + h.thl + h.bl;
            if (want > sizeof c.buf) {
                c.st = St::failed;
                return false;
            }
        }
        if (c.got == want) {
            return true;
        }
        const ssize_t n = ::read(c.fd, c.buf + c.got, want - c.got);
        if (n > 0) {
            c.got = static_cast<std::uint8_t>(c.got + n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return false;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        c.st = St::failed;
        return false;
    }
}

bool writeAll(int fd, const std::vector<std::uint8_t>& b) {
    // Fresh connections with empty send buffers: a small frame goes out whole.
    return ::write(fd, b.data(), b.size()) == static_cast<ssize_t>(b.size());
}

// ---- the client process: N raw connections driven by epoll; told what to do over a pipe ----

void say(int fd, const std::string& line) {
    const std::string l = line + "\n";
    (void)!::write(fd, l.data(), l.size());
}

/// One line from fd (blocking, up to timeoutMs per read); empty on EOF or timeout.
std::string hear(int fd, int timeoutMs) {
    std::string line;
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, timeoutMs) != 1) {
            return {};
        }
        char ch = 0;
        if (::read(fd, &ch, 1) != 1) {
            return {};
        }
        if (ch == '\n') {
            return line;
        }
        line.push_back(ch);
    }
}

[[noreturn]] void clientProcess(std::size_t N, int cmdFd, int resFd) {
    constexpr std::size_t MaxConnecting = 512;  // connects in progress at once (the listen backlog is finite)
    const std::string portLine = hear(cmdFd, 30'000);
    if (portLine.empty()) {
        ::_exit(3);
    }
    const auto port = static_cast<std::uint16_t>(std::stoul(portLine));
    std::vector<Conn> conns(N);
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    std::vector<epoll_event> events(1024);
    const std::string helloHeaders = "~connect_to:tcp|127.0.0.1|" + std::to_string(port) + "\r\n";
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    const auto tConnect = std::chrono::steady_clock::now();
    std::size_t next = 0, active = 0, done = 0, failed = 0;
    std::string firstFailure = "none";
    auto fail = [&](std::size_t i, const char* why) {
        const int err = errno;
        conns[i].st = St::failed;
        if (conns[i].fd >= 0) {
            ::epoll_ctl(ep, EPOLL_CTL_DEL, conns[i].fd, nullptr);
        }
        ++failed;
        --active;
        if (firstFailure == "none") {
            firstFailure = "connection " + std::to_string(i) + ": " + why + " (" + std::strerror(err) + ")";
        }
    };
    while (done + failed < N && secondsSince(tConnect) < 50.0) {
        while (next < N && active < MaxConnecting) {
            const std::size_t i = next++;
            Conn& c = conns[i];
            ++active;
            c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (c.fd < 0) {
                fail(i, "socket");
                continue;
            }
            const int one = 1;
            ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            c.st = St::connecting;
            if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 &&
                errno != EINPROGRESS) {
                fail(i, "connect");
                continue;
            }
            epoll_event ev{};
            ev.events = EPOLLOUT;
            ev.data.u64 = i;
            ::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
        }
        const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
        for (int k = 0; k < n; ++k) {
            const std::size_t i = events[static_cast<std::size_t>(k)].data.u64;
            Conn& c = conns[i];
            switch (c.st) {
                case St::connecting: {
                    int err = 0;
                    socklen_t len = sizeof err;
                    ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
                    if (err != 0) {
                        errno = err;
                        fail(i, "connect completion");
                        break;
                    }
                    if (!writeAll(c.fd, frame(0x0101, HelloRequestProto, helloId(i), helloHeaders, ""))) {
                        fail(i, "write hello");
                        break;
                    }
                    c.st = St::waitHello;
                    epoll_event ev{};
                    ev.events = EPOLLIN;
                    ev.data.u64 = i;
                    ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
                    break;
                }
                case St::waitHello: {
                    if (!readFrame(c)) {
                        if (c.st == St::failed) {
                            fail(i, "read hello response");
                        }
                        break;
                    }
                    const RawHeader h = parseHeader(c.buf);
                    if (h.proto != HelloResponseProto || h.id != helloId(i) || h.status != 0) {
                        fail(i, "wrong HelloResponse");
                        break;
                    }
                    c.got = 0;
                    if (!writeAll(c.fd, frame(0x0101, AppRequestProto, requestId(i), "", "ping"))) {
                        fail(i, "write request");
                        break;
                    }
                    c.st = St::waitResponse;
                    break;
                }
                case St::waitResponse: {
                    if (!readFrame(c)) {
                        if (c.st == St::failed) {
                            fail(i, "read response");
                        }
                        break;
                    }
                    const RawHeader h = parseHeader(c.buf);
                    if (h.proto != AppResponseProto || h.id != requestId(i) || h.status != 0 || h.bl != 4 ||
                        std::memcmp(c.buf + HeaderSize + h.thl, "ping", 4) != 0) {
                        fail(i, "wrong AppResponse");
                        break;
                    }
                    c.st = St::done;
                    c.got = 0;
                    ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);  // idle from now on
                    ++done;
                    --active;
                    break;
                }
                default:
                    break;
            }
        }
    }
    say(resFd, std::to_string(done) + " " + std::to_string(failed) + " " +
                   std::to_string(static_cast<long>(secondsSince(tConnect) * 1000)));
    say(resFd, firstFailure);

    // "check": with every connection held, a second round trip on 100 of them.
    if (hear(cmdFd, 120'000) != "check") {
        ::_exit(4);
    }
    std::size_t checked = 0;
    for (std::size_t i = 0; i < N; i += std::max<std::size_t>(1, N / 100)) {
        Conn& c = conns[i];
        if (c.st != St::done ||
            !writeAll(c.fd, frame(0x0101, AppRequestProto, requestId(i) + N, "", "ping"))) {
            continue;
        }
        pollfd p{c.fd, POLLIN, 0};
        bool whole = false;
        while (!whole && c.st != St::failed && ::poll(&p, 1, 10'000) == 1) {
            whole = readFrame(c);
        }
        if (whole && parseHeader(c.buf).id == requestId(i) + N &&
            parseHeader(c.buf).proto == AppResponseProto) {
            ++checked;
        }
        c.got = 0;
    }
    say(resFd, std::to_string(checked));

    // "close": every client goes away.
    if (hear(cmdFd, 120'000) != "close") {
        ::_exit(5);
    }
    for (Conn& c : conns) {
        if (c.fd >= 0) {
            ::close(c.fd);
        }
    }
    say(resFd, "closed");
    ::_exit(0);
}

/// Kills and reaps the child at scope end unless it was reaped already.
struct Child {
    pid_t pid = -1;
    ~Child() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
    int reap(int timeoutMs) {
        for (int waited = 0; waited < timeoutMs; waited += 10) {
            int status = 0;
            if (::waitpid(pid, &status, WNOHANG) == pid) {
                pid = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return -1;
    }
};

}  // namespace

TEST_CASE("hardening: 10,000 concurrent connections to one engine", "[hardening][scale]") {
    const auto N = static_cast<std::size_t>(envNumber("TOFU_SCALE_CONNECTIONS", 10'000));
    const auto t0 = std::chrono::steady_clock::now();

    // Both ends of N connections in one process need 2N descriptors: ask for at least 25,000. The clients
    // run in a child process anyway (so that VmRSS is the engine's alone), so when raising the hard limit is
    // refused (no CAP_SYS_RESOURCE) N and some slack per process is enough.
    NofileGuard nofile;
    const rlim_t wanted = std::max<rlim_t>(25'000, static_cast<rlim_t>(2 * N + 1'000));
    if (!nofile.raiseTo(wanted)) {
        const int err = errno;
        const auto perProcess = static_cast<rlim_t>(N + 1'000);
        if (!nofile.raiseTo(perProcess)) {
            WARN("SKIP: setrlimit(RLIMIT_NOFILE) to " << wanted << " refused (" << std::strerror(err)
                                                      << ") and the hard limit " << nofile.saved().rlim_max
                                                      << " is below " << perProcess << " per process");
            return;
        }
        WARN("setrlimit(RLIMIT_NOFILE, " << wanted << ") refused (" << std::strerror(err) << "); hard limit "
                                         << nofile.saved().rlim_max << " is enough for " << N
                                         << " connections per process (clients run in a child process)");
    }

    // The client process, forked before the engine starts a thread.
    int cmd[2] = {-1, -1};
    int res[2] = {-1, -1};
    REQUIRE(::pipe2(cmd, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(res, O_CLOEXEC) == 0);
    Child child;
    child.pid = ::fork();
    REQUIRE(child.pid >= 0);
    if (child.pid == 0) {
        ::close(cmd[1]);
        ::close(res[0]);
        clientProcess(N, cmd[0], res[1]);
    }
    ::close(cmd[0]);
    ::close(res[1]);
    struct Fds {
        int a, b;
        ~Fds() {
            ::close(a);
            ::close(b);
        }
    } pipes{cmd[1], res[0]};

    Options opts;
    opts.initialPoolMsgs = 64;
    opts.maxPoolMsgs = 1024;
    EchoServer srv(opts);
    const std::uint16_t port = findFreeTcpPort();
    {
        MessagePtr welcome = srv.ampe().get(AllocationStrategy::always);
        TCPServerConfigurator("127.0.0.1", port).prepareRequest(*welcome);
        const BinaryHeader sent = srv.group().enqueueToPeer(welcome);
        MessagePtr resp = srv.group().waitReceive(10 * waitReceive_SEC_TIMEOUT);
        REQUIRE(resp);
        REQUIRE(raw_to_status(resp->bhdr.status) == AmpeStatus::success);
        srv.addListener(sent.channel_number);
    }
    srv.start();

    const long rssBefore = vmRssKiB();
    say(cmd[1], std::to_string(port));
    const std::string counts = hear(res[0], 60'000);
    const std::string firstFailure = hear(res[0], 1'000);
    INFO("client process: '" << counts << "', first failure: " << firstFailure);
    REQUIRE_FALSE(counts.empty());
    std::size_t done = 0, failed = 0;
    long ms = 0;
    REQUIRE(std::sscanf(counts.c_str(), "%zu %zu %ld", &done, &failed, &ms) == 3);
    // The engine's side: wait (bounded) until its application thread has answered everything, then measure.
    REQUIRE(waitUntil([&] { return srv.requests.load() >= static_cast<long>(done); }, 10.0));
    const long rssAfter = vmRssKiB();
    REQUIRE(failed == 0);
    REQUIRE(done == N);  // every round trip completed
    REQUIRE(srv.hellos.load() == static_cast<long>(N));
    REQUIRE(srv.requests.load() == static_cast<long>(N));
    REQUIRE(srv.responses.load() == static_cast<long>(N));
    REQUIRE(srv.closed.load() == 0);

    const double establishSec = static_cast<double>(ms) / 1000.0;
    const double perConn = static_cast<double>(rssAfter - rssBefore) * 1024.0 / static_cast<double>(N);
    report(
        "scale: {} connections held; each did Hello and one request round trip; all in {:.2f} s ({:.0f}/s)",
        N, establishSec, static_cast<double>(N) / establishSec);
    report(
        "scale: engine process VmRSS {} KiB -> {} KiB: {:.0f} bytes per idle connection (user space; kernel "
        "socket buffers are not in RSS)",
        rssBefore, rssAfter, perConn);

    // With every connection held, the engine still answers.
    say(cmd[1], "check");
    const std::string checked = hear(res[0], 60'000);
    REQUIRE(checked ==
            std::to_string((N + std::max<std::size_t>(1, N / 100) - 1) / std::max<std::size_t>(1, N / 100)));

    // Every client goes away: the engine sees every close.
    const auto tClose = std::chrono::steady_clock::now();
    say(cmd[1], "close");
    REQUIRE(hear(res[0], 60'000) == "closed");
    REQUIRE(child.reap(10'000) == 0);
    const bool allClosed = waitUntil([&] { return srv.closed.load() == static_cast<long>(N); }, 30.0);
    INFO("closed " << srv.closed.load() << " of " << N);
    REQUIRE(allClosed);
    report("scale: {} closes seen by the application in {:.2f} s; whole test {:.1f} s", N,
           secondsSince(tClose), secondsSince(t0));
    REQUIRE(srv.listenerClosed.load() == 0);
    REQUIRE(srv.enqueueFailures.load() == 0);
    REQUIRE(srv.other.load() == 0);
}
