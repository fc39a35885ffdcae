// Churn soak (issue #6): for TOFU_CHURN_SECONDS (default 10) client groups in a second engine connect
// (TCP or UDS), exchange K requests, disconnect (ByeRequest, oob ByeSignal, or a plain close by destroying
// a group), and start again. Every message is counted in and out, and both engines' memory resources count
// live messages: no message may be lost, duplicated or leaked.
#include <catch2/catch.hpp>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hardening_support.hpp"

using namespace tofu;
using namespace tofu::hardening;

namespace {

constexpr int K = 8;  // requests per connection

struct Totals {
    std::atomic<long> cycles{0};
    std::atomic<long> sent{0};
    std::atomic<long> received{0};
    std::atomic<long> closedByBye{0};
    std::atomic<long> closedBySignal{0};
    std::atomic<long> closedByDestroy{0};
    std::atomic<long> poolEmpty{0};
    std::mutex errorMutex;
    std::string error;
    std::atomic<bool> failed{false};

    void fail(const std::string& what) {
        std::lock_guard lock(errorMutex);
        if (error.empty()) {
            error = what;
        }
        failed = true;
    }
};

std::string describe(const Message& m) {
    return "type=" + std::to_string(static_cast<int>(m.bhdr.proto.mtype)) +
           " role=" + std::to_string(static_cast<int>(m.bhdr.proto.role)) +
           " origin=" + std::to_string(static_cast<int>(m.bhdr.proto.origin)) +
           " status=" + std::string(statusName(raw_to_status(m.bhdr.status))) +
           " ch=" + std::to_string(m.bhdr.channel_number) + " id=" + std::to_string(m.bhdr.message_id);
}

bool isSignal(const Message& m, AmpeStatus st, ChannelNumber cn) {
    return m.bhdr.proto.mtype == MessageType::regular && m.bhdr.proto.role == MessageRole::signal &&
           m.bhdr.proto.origin == OriginFlag::engine && raw_to_status(m.bhdr.status) == st &&
           m.bhdr.channel_number == cn;
}

/// One client thread: its own group in the client engine, cycles until the deadline or a failure.
/// No Catch assertions here (not thread-safe): failures go to Totals.
void clientLoop(Ampe& ampe, int id, const Configurator& tcp, const Configurator& uds,
                std::chrono::steady_clock::time_point deadline, Totals& t) {
    ChannelGroup* g = ampe.create();
    auto next = [&](const char* what) -> MessagePtr {
        for (;;) {
            MessagePtr m = g->waitReceive(10 * waitReceive_SEC_TIMEOUT);
            if (!m) {
                t.fail("client " + std::to_string(id) + ": no message within 10 s while waiting for " + what);
                return m;
            }
            if (m->bhdr.proto.origin == OriginFlag::engine && m->bhdr.proto.mtype == MessageType::regular &&
                m->bhdr.proto.role == MessageRole::signal &&
                raw_to_status(m->bhdr.status) == AmpeStatus::pool_empty) {
                t.poolEmpty.fetch_add(1);  // back-pressure notice: reading resumes when messages come back
                continue;
            }
            return m;
        }
    };
    long cycle = 0;
    while (!t.failed && std::chrono::steady_clock::now() < deadline) {
        const Configurator& cfg = cycle % 2 == 0 ? tcp : uds;
        MessagePtr hello = ampe.get(AllocationStrategy::always);
        cfg.prepareRequest(*hello);
        const BinaryHeader hs = g->enqueueToPeer(hello);
        const ChannelNumber cn = hs.channel_number;
        MessagePtr hr = next("HelloResponse");
        if (!hr) {
            break;
        }
        if (toValidCombination(hr->bhdr.proto.mtype, hr->bhdr.proto.role) !=
                ValidCombination::HelloResponse ||
            hr->bhdr.message_id != hs.message_id || hr->bhdr.status != 0 ||
            hr->bhdr.proto.origin != OriginFlag::application) {
            t.fail("client " + std::to_string(id) + ": expected HelloResponse, got " + describe(*hr));
            break;
        }
        // K requests pipelined; the responses must come back once each, in order.
        MessageID ids[K] = {};
        for (int k = 0; k < K; ++k) {
            MessagePtr req = ampe.get(AllocationStrategy::always);
            req->bhdr.proto.mtype = MessageType::regular;
            req->bhdr.proto.role = MessageRole::request;
            req->bhdr.channel_number = cn;
            req->body.assign("c" + std::to_string(id) + "-" + std::to_string(cycle) + "-" +
                             std::to_string(k));
            ids[k] = g->enqueueToPeer(req).message_id;
            t.sent.fetch_add(1);
        }
        bool ok = true;
        for (int k = 0; k < K && ok; ++k) {
            MessagePtr r = next("AppResponse");
            const std::string body =
                "c" + std::to_string(id) + "-" + std::to_string(cycle) + "-" + std::to_string(k);
            if (!r ||
                toValidCombination(r->bhdr.proto.mtype, r->bhdr.proto.role) !=
                    ValidCombination::AppResponse ||
                r->bhdr.message_id != ids[k] || r->bhdr.channel_number != cn || r->body.view() != body) {
                t.fail("client " + std::to_string(id) + ": response " + std::to_string(k) + " of cycle " +
                       std::to_string(cycle) +
                       " wrong or missing: " + (r ? describe(*r) : std::string("none")));
                ok = false;
                break;
            }
            t.received.fetch_add(1);
        }
        if (!ok) {
            break;
        }
        // Disconnect, three ways.
        switch (cycle % 3) {
            case 0: {  // ByeRequest -> ByeResponse -> channel_closed
                MessagePtr bye = ampe.get(AllocationStrategy::always);
                bye->bhdr.proto.mtype = MessageType::bye;
                bye->bhdr.proto.role = MessageRole::request;
                bye->bhdr.channel_number = cn;
                const MessageID bid = g->enqueueToPeer(bye).message_id;
                MessagePtr br = next("ByeResponse");
                if (!br ||
                    toValidCombination(br->bhdr.proto.mtype, br->bhdr.proto.role) !=
                        ValidCombination::ByeResponse ||
                    br->bhdr.message_id != bid) {
                    t.fail("client " + std::to_string(id) + ": expected ByeResponse, got " +
                           (br ? describe(*br) : std::string("none")));
                    ok = false;
                    break;
                }
                MessagePtr cl = next("channel_closed");
                if (!cl || !isSignal(*cl, AmpeStatus::channel_closed, cn)) {
                    t.fail("client " + std::to_string(id) + ": expected channel_closed, got " +
                           (cl ? describe(*cl) : std::string("none")));
                    ok = false;
                    break;
                }
                t.closedByBye.fetch_add(1);
                break;
            }
            case 1: {  // ByeSignal oob: closes at once; the signal comes back, then channel_closed
                MessagePtr bye = ampe.get(AllocationStrategy::always);
                bye->bhdr.proto.mtype = MessageType::bye;
                bye->bhdr.proto.role = MessageRole::signal;
                bye->bhdr.proto.oob = Oob::on;
                bye->bhdr.channel_number = cn;
                const MessageID bid = g->enqueueToPeer(bye).message_id;
                MessagePtr back = next("ByeSignal back");
                MessagePtr cl = back ? next("channel_closed") : MessagePtr{};
                if (!back || back->bhdr.message_id != bid || back->bhdr.proto.mtype != MessageType::bye ||
                    !cl || !isSignal(*cl, AmpeStatus::channel_closed, cn)) {
                    t.fail("client " + std::to_string(id) + ": oob ByeSignal: got " +
                           (back ? describe(*back) : std::string("none")) + " then " +
                           (cl ? describe(*cl) : std::string("none")));
                    ok = false;
                    break;
                }
                t.closedBySignal.fetch_add(1);
                break;
            }
            default:  // the group goes away with its channel open: closed silently, the server sees it go
                ampe.destroy(g);
                g = ampe.create();
                t.closedByDestroy.fetch_add(1);
                break;
        }
        if (!ok) {
            break;
        }
        ++cycle;
        t.cycles.fetch_add(1);
    }
    ampe.destroy(g);
}

}  // namespace

TEST_CASE("hardening: churn soak: connect, exchange, disconnect, repeat", "[hardening][churn]") {
    const long seconds = envNumber("TOFU_CHURN_SECONDS", 10);
    constexpr int Clients = 3;
    CountingResource serverMem;
    CountingResource clientMem;
    Options sopts;
    sopts.initialPoolMsgs = 16;
    sopts.maxPoolMsgs = 64;
    sopts.allocator = &serverMem;
    Options copts = sopts;
    copts.allocator = &clientMem;

    Totals t;
    long serverLive = 0, serverPooled = 0, clientLive = 0, clientPooled = 0;
    {
        auto srv = std::make_unique<EchoServer>(sopts);
        const std::uint16_t port = findFreeTcpPort();
        const std::string path = tempUdsPath();
        for (const Configurator& cfg : {Configurator(TCPServerConfigurator("127.0.0.1", port)),
                                        Configurator(UDSServerConfigurator(path))}) {
            MessagePtr welcome = srv->ampe().get(AllocationStrategy::always);
            cfg.prepareRequest(*welcome);
            const BinaryHeader sent = srv->group().enqueueToPeer(welcome);
            MessagePtr resp = srv->group().waitReceive(10 * waitReceive_SEC_TIMEOUT);
            REQUIRE(resp);
            REQUIRE(raw_to_status(resp->bhdr.status) == AmpeStatus::success);
            srv->addListener(sent.channel_number);
        }
        srv->start();

        auto client = Reactor::Create(copts);
        const Configurator tcp(TCPClientConfigurator("127.0.0.1", port));
        const Configurator uds(UDSClientConfigurator{path});
        const auto t0 = std::chrono::steady_clock::now();
        const auto deadline = t0 + std::chrono::seconds(seconds);
        std::vector<std::thread> threads;
        for (int i = 0; i < Clients; ++i) {
            threads.emplace_back([&, i] { clientLoop(client->ampe(), i, tcp, uds, deadline, t); });
        }
        for (auto& th : threads) {
            th.join();
        }
        const double elapsed = secondsSince(t0);
        INFO("client failure: " << t.error);
        REQUIRE_FALSE(t.failed.load());
        const long cycles = t.cycles.load();
        REQUIRE(cycles > 0);

        // The server sees every connection open and close (bounded wait: closes travel asynchronously).
        const bool settled =
            waitUntil([&] { return srv->hellos.load() == cycles && srv->closed.load() == cycles; }, 10.0);
        INFO("server hellos " << srv->hellos.load() << " closed " << srv->closed.load() << " cycles "
                              << cycles);
        REQUIRE(settled);

        // Every message counted in and out, on both sides.
        REQUIRE(t.sent.load() == cycles * K);
        REQUIRE(t.received.load() == t.sent.load());
        REQUIRE(srv->requests.load() == t.sent.load());
        REQUIRE(srv->responses.load() == t.sent.load());
        REQUIRE(srv->byes.load() == t.closedByBye.load());
        REQUIRE(srv->enqueueFailures.load() == 0);
        REQUIRE(srv->returned.load() == 0);
        REQUIRE(srv->other.load() == 0);
        REQUIRE(srv->listenerClosed.load() == 0);

        // No message leaked while the engines live: with every channel closed and the application holding
        // nothing, every live message is back in its engine's pool.
        srv->stop();
        while (MessagePtr m = srv->group().waitReceive(0)) {
        }
        serverLive = serverMem.liveMessages.load();
        serverPooled = drainPoolCount(srv->ampe());
        clientLive = clientMem.liveMessages.load();
        clientPooled = drainPoolCount(client->ampe());
        CHECK(serverLive == serverPooled);
        CHECK(clientLive == clientPooled);
        CHECK(serverPooled <= sopts.maxPoolMsgs);
        CHECK(clientPooled <= copts.maxPoolMsgs);

        report(
            "churn: {} cycles in {:.1f} s ({:.0f}/s, {} client threads, TCP and UDS alternating), {} "
            "requests "
            "and {} responses each way, closes: {} bye, {} oob bye signal, {} group destroyed",
            cycles, elapsed, static_cast<double>(cycles) / elapsed, Clients, t.sent.load(), t.received.load(),
            t.closedByBye.load(), t.closedBySignal.load(), t.closedByDestroy.load());
        report(
            "churn: live messages after the soak: server {} (all {} in the pool), client {} (all {} in the "
            "pool); "
            "pool_empty signals: server {}, "
            "client {}",
            serverLive, serverPooled, clientLive, clientPooled, srv->poolEmpty.load(), t.poolEmpty.load());
        client.reset();
        srv.reset();
    }
    // Both engines gone: nothing they allocated from their memory resources is left.
    REQUIRE(serverMem.liveMessages.load() == 0);
    REQUIRE(clientMem.liveMessages.load() == 0);
    REQUIRE(serverMem.liveBlocks.load() == 0);
    REQUIRE(clientMem.liveBlocks.load() == 0);
}
