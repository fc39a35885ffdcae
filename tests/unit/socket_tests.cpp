// Sockets: listeners, non-blocking connects, accept, addresses (the original's sockets_tests exchangers).
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "socket.hpp"
#include "tofu/helpers.hpp"

using namespace tofu;
using namespace tofu::detail;

namespace {

bool waitFd(int fd, short events) {
    pollfd p{fd, events, 0};
    return ::poll(&p, 1, 5000) == 1;
}

// Connects to a listener, accepts, exchanges bytes both ways.
void exchange(const Configurator& server, const Endpoint& ep) {
    UniqueFd lfd;
    REQUIRE(createListener(server, lfd) == AmpeStatus::success);
    UniqueFd cfd;
    bool inProgress = false;
    REQUIRE(startConnect(ep, cfd, inProgress) == AmpeStatus::success);
    if (inProgress) {
        REQUIRE(waitFd(cfd.get(), POLLOUT));
        REQUIRE(finishConnect(cfd.get()) == AmpeStatus::success);
    }
    REQUIRE(waitFd(lfd.get(), POLLIN));
    UniqueFd sfd;
    REQUIRE(acceptOne(lfd.get(), sfd) == AcceptResult::accepted);
    REQUIRE(acceptOne(lfd.get(), sfd) == AcceptResult::wouldBlock);  // sfd untouched on would-block
    REQUIRE(sfd.valid());
    REQUIRE(::send(cfd.get(), "ping", 4, sendFlags()) == 4);
    REQUIRE(waitFd(sfd.get(), POLLIN));
    char buf[8] = {};
    REQUIRE(::recv(sfd.get(), buf, sizeof buf, 0) == 4);
    REQUIRE(std::string(buf, 4) == "ping");
    // peer gone: recv 0, and sending does not raise SIGPIPE
    sfd.reset();
    REQUIRE(waitFd(cfd.get(), POLLIN));
    REQUIRE(::recv(cfd.get(), buf, sizeof buf, 0) == 0);
    (void)::send(cfd.get(), "x", 1, sendFlags());
    (void)::send(cfd.get(), "x", 1, sendFlags());
}

}  // namespace

TEST_CASE("sockets: TCP exchanger", "[socket]") {
    const std::uint16_t port = findFreeTcpPort();
    Endpoint ep;
    REQUIRE(numericEndpoint("127.0.0.1", port, false, ep));
    REQUIRE(ep.toString() == "127.0.0.1:" + std::to_string(port));
    exchange(TCPServerConfigurator("127.0.0.1", port), ep);
}

TEST_CASE("sockets: TCP over IPv6 loopback", "[socket]") {
    Endpoint ep;
    REQUIRE(numericEndpoint("[::1]", 1, false, ep));
    UniqueFd probe(::socket(AF_INET6, SOCK_STREAM, 0));
    if (!probe || ::bind(probe.get(), reinterpret_cast<const sockaddr*>(&ep.addr), ep.len) != 0) {
        WARN("no IPv6 loopback here: skipped");
        return;
    }
    probe.reset();
    const std::uint16_t port = findFreeTcpPort();
    REQUIRE(numericEndpoint("::1", port, false, ep));
    exchange(TCPServerConfigurator("::1", port), ep);
}

TEST_CASE("sockets: UDS exchanger and stale files", "[socket]") {
    const std::string path = tempUdsPath();
    Endpoint ep;
    REQUIRE(udsEndpoint(path, ep));
    exchange(UDSServerConfigurator(path), ep);
    // the listener above was closed without unlinking: its file is stale and gets replaced
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    UniqueFd lfd;
    REQUIRE(createListener(UDSServerConfigurator(path), lfd) == AmpeStatus::success);
    // a live one is not
    UniqueFd second;
    REQUIRE(createListener(UDSServerConfigurator(path), second) == AmpeStatus::listen_failed);
    unlinkUdsListener(lfd.get(), udsFileId(lfd.get()));
    REQUIRE(::lstat(path.c_str(), &st) != 0);
}

TEST_CASE("sockets: closing a UDS listener leaves a file someone else bound at its path since", "[socket]") {
    const std::string path = tempUdsPath();
    UniqueFd first;
    REQUIRE(createListener(UDSServerConfigurator(path), first) == AmpeStatus::success);
    const UdsFileId id = udsFileId(first.get());
    REQUIRE(::unlink(path.c_str()) == 0);  // removed behind its back, and the path bound again
    UniqueFd second;
    REQUIRE(createListener(UDSServerConfigurator(path), second) == AmpeStatus::success);
    unlinkUdsListener(first.get(), id);
    struct stat st {};
    CHECK(::lstat(path.c_str(), &st) == 0);  // the second listener's file is still there
    unlinkUdsListener(second.get(), udsFileId(second.get()));
    CHECK(::lstat(path.c_str(), &st) != 0);
}

TEST_CASE("sockets: a UDS listener with an empty path gets a fresh one", "[socket]") {
    UniqueFd a;
    REQUIRE(createListener(UDSServerConfigurator(""), a) == AmpeStatus::success);
    const std::string pa = boundUdsPath(a.get());
    REQUIRE_FALSE(pa.empty());
    struct stat st {};
    REQUIRE(::lstat(pa.c_str(), &st) == 0);
    REQUIRE(S_ISSOCK(st.st_mode));
    UniqueFd b;
    REQUIRE(createListener(UDSServerConfigurator(), b) == AmpeStatus::success);
    REQUIRE(boundUdsPath(b.get()) != pa);  // unique per listener
    Endpoint ep;
    REQUIRE(udsEndpoint(pa, ep));
    UniqueFd cfd;
    bool inProgress = false;
    REQUIRE(startConnect(ep, cfd, inProgress) == AmpeStatus::success);  // it listens there
    unlinkUdsListener(a.get(), udsFileId(a.get()));
    unlinkUdsListener(b.get(), udsFileId(b.get()));
    REQUIRE(::lstat(pa.c_str(), &st) != 0);
    // a TCP listener has no path
    UniqueFd t;
    REQUIRE(createListener(TCPServerConfigurator("127.0.0.1", 0), t) == AmpeStatus::success);
    REQUIRE(boundUdsPath(t.get()).empty());
}

TEST_CASE("sockets: setListenOn rewrites only the listen address", "[socket]") {
    MessagePtr m = Message::create();
    m->thdrs.append("before", "1");
    m->thdrs.append(ListenOnHeader, "uds|");
    m->thdrs.append("after", "2");
    m->thdrs.append(ListenOnHeader, "uds|/second");
    setListenOn(*m, "uds|/tmp/chosen");
    REQUIRE(m->thdrs.view() ==
            "before:1\r\n~listen_on:uds|/tmp/chosen\r\nafter:2\r\n~listen_on:uds|/second\r\n");
    m->reset();
    m->thdrs.appendNotSafe("~listen_on:uds|");  // a last record without CRLF
    setListenOn(*m, "uds|/x");
    REQUIRE(m->thdrs.view() == "~listen_on:uds|/x\r\n");
    m->reset();
    m->thdrs.append("other", "v");
    setListenOn(*m, "tcp|1.2.3.4|5");  // none yet: appended
    REQUIRE(m->thdrs.view() == "other:v\r\n~listen_on:tcp|1.2.3.4|5\r\n");
}

TEST_CASE("sockets: listener failures", "[socket]") {
    const std::uint16_t port = findFreeTcpPort();
    UniqueFd a;
    REQUIRE(createListener(TCPServerConfigurator("127.0.0.1", port), a) == AmpeStatus::success);
    UniqueFd b;
    REQUIRE(createListener(TCPServerConfigurator("127.0.0.1", port), b) == AmpeStatus::listen_failed);
    REQUIRE(createListener(TCPServerConfigurator("not-an-ip", port), b) == AmpeStatus::invalid_address);
    const AmpeStatus foreign = createListener(TCPServerConfigurator("192.0.2.1", port), b);
    REQUIRE((foreign == AmpeStatus::invalid_address || foreign == AmpeStatus::listen_failed));
    REQUIRE(createListener(UDSServerConfigurator(std::string(150, 'x')), b) == AmpeStatus::invalid_address);
    REQUIRE(createListener(TCPClientConfigurator("127.0.0.1", port), b) == AmpeStatus::wrong_configuration);
    REQUIRE(createListener(UDSServerConfigurator("/nonexistent-dir/x.sock"), b) == AmpeStatus::listen_failed);
}

TEST_CASE("sockets: connect failures", "[socket]") {
    Endpoint ep;
    REQUIRE(numericEndpoint("127.0.0.1", findFreeTcpPort(), false, ep));
    UniqueFd fd;
    bool inProgress = false;
    const AmpeStatus st = startConnect(ep, fd, inProgress);
    if (st == AmpeStatus::success) {
        REQUIRE(inProgress);
        REQUIRE(waitFd(fd.get(), POLLOUT));
        REQUIRE(finishConnect(fd.get()) == AmpeStatus::connect_failed);
    } else {
        REQUIRE(st == AmpeStatus::peer_disconnected);
    }
    REQUIRE(udsEndpoint(tempUdsPath(), ep));
    UniqueFd ufd;
    REQUIRE(startConnect(ep, ufd, inProgress) == AmpeStatus::uds_path_not_found);
}

TEST_CASE("sockets: addresses", "[socket]") {
    Endpoint ep;
    REQUIRE(numericEndpoint("", 80, true, ep));
    REQUIRE(ep.toString() == "0.0.0.0:80");
    REQUIRE(numericEndpoint("::", 80, true, ep));
    REQUIRE(ep.family() == AF_INET6);
    REQUIRE_FALSE(numericEndpoint("localhost", 80, false, ep));
    REQUIRE_FALSE(numericEndpoint("1.2.3.4.5", 80, false, ep));
    REQUIRE_FALSE(udsEndpoint("", ep));
    REQUIRE_FALSE(udsEndpoint(std::string(108, 'a'), ep));
    std::vector<Endpoint> eps;
    REQUIRE(resolve("localhost", 9, eps) == AmpeStatus::success);
    REQUIRE_FALSE(eps.empty());
    REQUIRE(resolve("no-such-host.invalid", 9, eps) == AmpeStatus::invalid_address);
    REQUIRE(findFreeTcpPort() != 0);
    REQUIRE(tempUdsPath() != tempUdsPath());
    REQUIRE(tempUdsPath().size() < 100);
}

TEST_CASE("sockets: findFreeTcpPort keeps its ports until a listener takes them", "[socket]") {
    // Threads asking at once, as the simm tests do, never get the same port (binding port 0 and closing, as
    // findFreeTcpPort once did, hands out about one port in 100 twice).
    constexpr int Threads = 8;
    constexpr int Calls = 32;
    std::vector<std::vector<std::uint16_t>> ports(Threads);
    std::vector<std::thread> threads;
    for (auto& mine : ports) {
        threads.emplace_back([&mine] {
            for (int i = 0; i < Calls; ++i) {
                mine.push_back(findFreeTcpPort());
            }
        });
    }
    for (std::thread& t : threads) {
        t.join();
    }
    std::set<std::uint16_t> distinct;
    for (const auto& mine : ports) {
        distinct.insert(mine.begin(), mine.end());
    }
    REQUIRE(distinct.size() == static_cast<std::size_t>(Threads * Calls));
    REQUIRE(distinct.count(0) == 0);

    // Until a listener binds it, the port stays bound: a socket without SO_REUSEADDR cannot have it (nor can
    // another process, nor a connect's local port); a tofu listener (SO_REUSEADDR) can.
    const std::uint16_t port = findFreeTcpPort();
    Endpoint ep;
    REQUIRE(numericEndpoint("127.0.0.1", port, false, ep));
    UniqueFd plain(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(plain);
    REQUIRE(::bind(plain.get(), reinterpret_cast<const sockaddr*>(&ep.addr), ep.len) != 0);
    REQUIRE(errno == EADDRINUSE);
    UniqueFd lfd;
    REQUIRE(createListener(TCPServerConfigurator("127.0.0.1", port), lfd) == AmpeStatus::success);
    UniqueFd second;
    REQUIRE(createListener(TCPServerConfigurator("127.0.0.1", port), second) == AmpeStatus::listen_failed);
}
