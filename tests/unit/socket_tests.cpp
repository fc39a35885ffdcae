// Sockets: listeners, non-blocking connects, accept, addresses (the original's sockets_tests exchangers).
#include <catch2/catch.hpp>
#include <cerrno>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "socket.hpp"
#include "test_platform.hpp"
#include "tofu/helpers.hpp"

using namespace tofu;
using namespace tofu::detail;
using tofu::test::isSocketFile;
using tofu::test::pathExists;
using tofu::test::PollIn;
using tofu::test::PollOut;

namespace {

bool waitFd(NativeSocket fd, short events) {
    return tofu::test::pollOne(fd, events, 5000) != 0;
}

// Connects to a listener, accepts, exchanges bytes both ways.
void exchange(const Configurator& server, const Endpoint& ep) {
    UniqueFd lfd;
    REQUIRE(createListener(server, lfd) == AmpeStatus::success);
    UniqueFd cfd;
    bool inProgress = false;
    REQUIRE(startConnect(ep, cfd, inProgress) == AmpeStatus::success);
    if (inProgress) {
        REQUIRE(waitFd(cfd.get(), PollOut));
        REQUIRE(finishConnect(cfd.get()) == AmpeStatus::success);
    }
    REQUIRE(waitFd(lfd.get(), PollIn));
    UniqueFd sfd;
    REQUIRE(acceptOne(lfd.get(), sfd) == AcceptResult::accepted);
    REQUIRE(acceptOne(lfd.get(), sfd) == AcceptResult::wouldBlock);  // sfd untouched on would-block
    REQUIRE(sfd.valid());
    REQUIRE(sendSome(cfd.get(), "ping", 4) == 4);
    REQUIRE(waitFd(sfd.get(), PollIn));
    char buf[8] = {};
    REQUIRE(recvSome(sfd.get(), buf, sizeof buf) == 4);
    REQUIRE(std::string(buf, 4) == "ping");
    // peer gone: recv 0, and sending does not raise SIGPIPE
    sfd.reset();
    REQUIRE(waitFd(cfd.get(), PollIn));
    REQUIRE(recvSome(cfd.get(), buf, sizeof buf) == 0);
    (void)sendSome(cfd.get(), "x", 1);
    (void)sendSome(cfd.get(), "x", 1);
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
    UniqueFd probe(tofu::test::rawSocket(AF_INET6));
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
    TOFU_SKIP_WITHOUT_UDS();
    const std::string path = tempUdsPath();
    Endpoint ep;
    REQUIRE(udsEndpoint(path, ep));
    exchange(UDSServerConfigurator(path), ep);
    // the listener above was closed without unlinking: its file is stale and gets replaced
    REQUIRE(pathExists(path));
    UniqueFd lfd;
    REQUIRE(createListener(UDSServerConfigurator(path), lfd) == AmpeStatus::success);
    // a live one is not
    UniqueFd second;
    REQUIRE(createListener(UDSServerConfigurator(path), second) == AmpeStatus::listen_failed);
    unlinkUdsListener(lfd.get(), udsFileId(lfd.get()));
    REQUIRE_FALSE(pathExists(path));
}

TEST_CASE("sockets: closing a UDS listener leaves a file someone else bound at its path since", "[socket]") {
    TOFU_SKIP_WITHOUT_UDS();
    const std::string path = tempUdsPath();
    UniqueFd first;
    REQUIRE(createListener(UDSServerConfigurator(path), first) == AmpeStatus::success);
    const UdsFileId id = udsFileId(first.get());
    REQUIRE(pathExists(path));
    tofu::test::removeFile(path);  // removed behind its back, and the path bound again
    REQUIRE_FALSE(pathExists(path));
    UniqueFd second;
    REQUIRE(createListener(UDSServerConfigurator(path), second) == AmpeStatus::success);
    unlinkUdsListener(first.get(), id);
    CHECK(pathExists(path));  // the second listener's file is still there
    unlinkUdsListener(second.get(), udsFileId(second.get()));
    CHECK_FALSE(pathExists(path));
}

TEST_CASE("sockets: a UDS listener with an empty path gets a fresh one", "[socket]") {
    TOFU_SKIP_WITHOUT_UDS();
    UniqueFd a;
    REQUIRE(createListener(UDSServerConfigurator(""), a) == AmpeStatus::success);
    const std::string pa = boundUdsPath(a.get());
    REQUIRE_FALSE(pa.empty());
    REQUIRE(isSocketFile(pa));
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
    REQUIRE_FALSE(pathExists(pa));
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
    TOFU_SKIP_WITHOUT_UDS();  // the rest needs AF_UNIX
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
        REQUIRE(waitFd(fd.get(), PollOut));
        REQUIRE(finishConnect(fd.get()) == AmpeStatus::connect_failed);
    } else {
        REQUIRE(st == AmpeStatus::peer_disconnected);
    }
    TOFU_SKIP_WITHOUT_UDS();  // the rest needs AF_UNIX
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
    // another process, nor a connect's local port); a tofu listener (SO_REUSEADDR; on Windows it gives up the
    // reservation first) can.
    const std::uint16_t port = findFreeTcpPort();
    Endpoint ep;
    REQUIRE(numericEndpoint("127.0.0.1", port, false, ep));
    UniqueFd plain(tofu::test::rawSocket(AF_INET));
    REQUIRE(plain);
    REQUIRE(::bind(plain.get(), reinterpret_cast<const sockaddr*>(&ep.addr), ep.len) != 0);
#if defined(_WIN32)
    const int err = socketError();
    REQUIRE((err == EADDRINUSE || err == EACCES));  // Windows says either for a port held exclusively
#else
    REQUIRE(errno == EADDRINUSE);
#endif
    UniqueFd lfd;
    REQUIRE(createListener(TCPServerConfigurator("127.0.0.1", port), lfd) == AmpeStatus::success);
    UniqueFd second;
    REQUIRE(createListener(TCPServerConfigurator("127.0.0.1", port), second) == AmpeStatus::listen_failed);
}
