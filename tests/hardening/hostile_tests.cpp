// Hostile peers and OS faults after the handshake: a peer killed mid-frame (RST), and an EINTR storm on
// every engine thread while round trips run. Each ends with the right status, the engine still serving,
// and (through a counting allocator) nothing left allocated once the engine is gone.
#include <signal.h>

#include <catch2/catch.hpp>

#include "hardening_support.hpp"

using namespace tofu;
using namespace tofu::hardening;

namespace {

// A raw client connected to 127.0.0.1:port; reads and writes bounded by 10 s.
int connectRaw(std::uint16_t port) {
    const int fd = rawSocket();
    REQUIRE(fd >= 0);
    REQUIRE(rawConnect(fd, port));
    return fd;
}

// Hello from a raw peer, answered by the application on g; returns the server-side channel.
ChannelNumber rawHello(ChannelGroup& g, int fd) {
    REQUIRE(sendAll(fd, frame(1, HelloRequestProto, 11, "a:b\r\n", "")));
    MessagePtr hello = g.waitReceive(10 * waitReceive_SEC_TIMEOUT);
    REQUIRE(hello);
    REQUIRE(hello->bhdr.proto.mtype == MessageType::hello);
    const ChannelNumber cn = hello->bhdr.channel_number;
    hello->bhdr.proto.role = MessageRole::response;
    g.enqueueToPeer(hello);
    RawHeader h;
    std::string payload;
    REQUIRE(recvFrame(fd, h, payload));
    REQUIRE(h.proto == HelloResponseProto);
    return cn;
}

MessagePtr nextFor(ChannelGroup& g, ChannelNumber cn) {
    for (;;) {
        MessagePtr m = g.waitReceive(10 * waitReceive_SEC_TIMEOUT);
        REQUIRE(m);
        if (m->bhdr.channel_number == cn) {
            return m;
        }
    }
}

std::atomic<long> gSignals{0};
extern "C" void countSignal(int) {
    gSignals.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

TEST_CASE("hardening: a peer killed mid-frame (RST) closes only its channel and nothing leaks",
          "[hardening][hostile]") {
    CountingResource mem;
    {
        Options opts;
        opts.allocator = &mem;
        auto rtr = Reactor::Create(opts);
        DestroyChannels srv(rtr->ampe());
        const std::uint16_t port = findFreeTcpPort();
        MessagePtr welcome = rtr->ampe().get(AllocationStrategy::always);
        TCPServerConfigurator("127.0.0.1", port).prepareRequest(*welcome);
        srv->enqueueToPeer(welcome);
        MessagePtr wr = srv->waitReceive(10 * waitReceive_SEC_TIMEOUT);
        REQUIRE(wr);
        REQUIRE(wr->bhdr.status == 0);

        const int victim = connectRaw(port);
        const int survivor = connectRaw(port);
        const ChannelNumber victimCn = rawHello(*srv, victim);
        const ChannelNumber survivorCn = rawHello(*srv, survivor);

        // Half of a 40 KiB frame, then the process "dies": close with linger 0 sends a reset.
        std::vector<std::uint8_t> big = frame(1, AppRequestProto, 12, "", std::string(40000, 'x'));
        big.resize(big.size() / 2);
        REQUIRE(sendAll(victim, big));
        const linger rst{1, 0};
        ::setsockopt(victim, SOL_SOCKET, SO_LINGER, &rst, sizeof rst);
        ::close(victim);

        MessagePtr closed = nextFor(*srv, victimCn);
        CHECK(closed->bhdr.proto.origin == OriginFlag::engine);
        CHECK(closed->bhdr.proto.role == MessageRole::signal);
        CHECK(raw_to_status(closed->bhdr.status) == AmpeStatus::channel_closed);

        // The other peer is still served.
        REQUIRE(sendAll(survivor, frame(1, AppRequestProto, 13, "", "still here")));
        MessagePtr req = nextFor(*srv, survivorCn);
        REQUIRE(req->body.view() == "still here");
        req->bhdr.proto.role = MessageRole::response;
        srv->enqueueToPeer(req);
        RawHeader h;
        std::string payload;
        REQUIRE(recvFrame(survivor, h, payload));
        REQUIRE(h.proto == AppResponseProto);
        REQUIRE(payload == "still here");  // no text headers: the payload is the body
        // Counted as the peer going away, not as an error of the engine's (issue #17).
        REQUIRE(rtr->channelStats(std::chrono::seconds(10)));
        const EngineStats st = rtr->stats();
        CHECK(st.connectionsOpened == 2);
        CHECK(st.closedPeer == 1);
        CHECK(st.closedError == 0);
        ::close(survivor);
    }
    // The half-filled 40 KiB message went back to the pool and then away with the engine.
    CHECK(mem.liveMessages.load() == 0);
    CHECK(mem.liveBlocks.load() == 0);
}

TEST_CASE("hardening: an EINTR storm on every thread does not lose a round trip", "[hardening][faults]") {
    struct sigaction sa {};
    sa.sa_handler = countSignal;  // no SA_RESTART: blocking calls fail with EINTR
    sigemptyset(&sa.sa_mask);
    struct sigaction old {};
    REQUIRE(::sigaction(SIGUSR1, &sa, &old) == 0);
    gSignals = 0;

    long done = 0;
    {
        auto srvEngine = Reactor::Create();
        auto cliEngine = Reactor::Create();
        DestroyChannels srv(srvEngine->ampe());
        DestroyChannels cli(cliEngine->ampe());
        const std::string path = tempUdsPath();
        MessagePtr welcome = srvEngine->ampe().get(AllocationStrategy::always);
        UDSServerConfigurator(path).prepareRequest(*welcome);
        srv->enqueueToPeer(welcome);
        REQUIRE(srv->waitReceive(10 * waitReceive_SEC_TIMEOUT)->bhdr.status == 0);

        std::atomic<bool> stop{false};
        std::thread echo([&] {  // the server application
            while (!stop.load()) {
                MessagePtr m = srv->waitReceive(waitReceive_SEC_TIMEOUT / 10);
                if (m && m->bhdr.proto.origin == OriginFlag::application &&
                    m->bhdr.proto.role == MessageRole::request) {
                    m->bhdr.proto.role = MessageRole::response;
                    srv->enqueueToPeer(m);
                }
            }
        });
        std::thread storm([&] {
            sigset_t mine;
            sigemptyset(&mine);
            sigaddset(&mine, SIGUSR1);
            pthread_sigmask(SIG_BLOCK, &mine, nullptr);  // delivered to the other threads, engines' included
            while (!stop.load()) {
                ::kill(::getpid(), SIGUSR1);
                std::this_thread::sleep_for(std::chrono::microseconds(100));
            }
        });

        MessagePtr hello = cliEngine->ampe().get(AllocationStrategy::always);
        UDSClientConfigurator(path).prepareRequest(*hello);
        const ChannelNumber cn = cli->enqueueToPeer(hello).channel_number;
        MessagePtr hr = cli->waitReceive(10 * waitReceive_SEC_TIMEOUT);
        const bool connected = hr && hr->bhdr.status == 0 && hr->bhdr.proto.mtype == MessageType::hello;
        for (int i = 0; connected && i < 3000; ++i) {
            MessagePtr m = cliEngine->ampe().get(AllocationStrategy::always);
            m->bhdr.proto.role = MessageRole::request;
            m->bhdr.channel_number = cn;
            m->body.assign(std::to_string(i));
            cli->enqueueToPeer(m);
            MessagePtr r = cli->waitReceive(10 * waitReceive_SEC_TIMEOUT);
            if (!r || r->bhdr.proto.role != MessageRole::response || r->body.view() != std::to_string(i)) {
                break;
            }
            ++done;
        }
        stop = true;
        storm.join();
        echo.join();
        REQUIRE(connected);
    }
    ::sigaction(SIGUSR1, &old, nullptr);
    report("EINTR storm: {} round trips while {} signals interrupted the threads", done, gSignals.load());
    CHECK(done == 3000);
    CHECK(gSignals.load() > 100);
}
