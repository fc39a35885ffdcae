// The convenience layer over the original's API (issue #15): message shapes and accessors, chrono and
// error_code overloads, the owning group handle, URLs, the requester and the reconnecting client.
#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "engine_test_support.hpp"
#include "test_platform.hpp"
#include "tofu/tofu.hpp"

using namespace tofu;
using namespace tofu::testing;

TEST_CASE("api: message shapes set type, role, channel and body", "[api][message]") {
    MessagePtr m = Message::create();
    m->user = m.get();
    m->bhdr.message_id = 77;
    m->thdrs.append("old", "header");

    m->asRequest(5, "ping");
    REQUIRE(m->is(ValidCombination::AppRequest));
    REQUIRE(m->channel() == 5);
    REQUIRE(m->id() == 0);  // cleared: the engine picks one
    REQUIRE(m->thdrs.view().empty());
    REQUIRE(m->text() == "ping");
    REQUIRE(m->bytes().size() == 4);
    REQUIRE(m->user == m.get());  // the application's pointer is kept

    const std::array<std::uint8_t, 3> raw{1, 2, 3};
    m->asSignal(6, std::span<const std::uint8_t>(raw));
    REQUIRE(m->is(ValidCombination::AppSignal));
    REQUIRE(std::equal(m->bytes().begin(), m->bytes().end(), raw.begin(), raw.end()));

    m->asByeRequest(7);
    REQUIRE(m->is(ValidCombination::ByeRequest));
    REQUIRE(m->channel() == 7);
    REQUIRE(m->body.empty());

    m->asByeSignal(8);
    REQUIRE(m->is(ValidCombination::ByeSignal));
    REQUIRE(m->bhdr.proto.oob == Oob::on);
    m->asByeSignal(8, Oob::off);
    REQUIRE(m->bhdr.proto.oob == Oob::off);
    REQUIRE(m->check_and_prepare() == ValidCombination::ByeSignal);
    REQUIRE(m->ok());
    REQUIRE(m->status() == AmpeStatus::success);
    REQUIRE_FALSE(m->fromEngine());
}

TEST_CASE("api: asResponse flips a request in place and refuses anything else", "[api][message]") {
    MessagePtr m = Message::create();
    m->asRequest(3, "question");
    m->bhdr.message_id = 42;
    m->thdrs.append("k", "v");
    m->asResponse("answer");
    REQUIRE(m->is(ValidCombination::AppResponse));
    REQUIRE(m->id() == 42);
    REQUIRE(m->channel() == 3);
    REQUIRE(m->thdrs.find("k") == std::optional<std::string_view>("v"));
    REQUIRE(m->text() == "answer");

    // A response, a signal, or anything from the engine cannot be answered; the message stays as it was.
    REQUIRE_THROWS_MATCHES(m->asResponse(), AmpeError,
                           Catch::Matchers::Predicate<AmpeError>(
                               [](const AmpeError& e) { return e.status() == AmpeStatus::not_allowed; }));
    m->asSignal(3, "s");
    REQUIRE_THROWS_AS(m->asResponse(), AmpeError);
    REQUIRE(m->is(ValidCombination::AppSignal));
    m->asRequest(3, "r");
    m->bhdr.proto.origin = OriginFlag::engine;
    REQUIRE(m->fromEngine());
    REQUIRE_THROWS_AS(m->asResponse(), AmpeError);
    REQUIRE(m->role() == MessageRole::request);

    m->bhdr.proto.origin = OriginFlag::application;
    m->bhdr.proto.mtype = MessageType::bye;
    m->asResponse();
    REQUIRE(m->is(ValidCombination::ByeResponse));
    REQUIRE(m->type() == MessageType::bye);
    REQUIRE(m->text() == "r");  // the body is kept by the plain form
}

namespace {

// Request, response, ByeRequest, ByeResponse and the close notice over a real connection, with the builders.
void exchangeWithBuilders(const Configurator& srvCfg, const Configurator& cliCfg) {
    auto rtr = Reactor::Create();
    Ampe& ampe = rtr->ampe();
    DestroyChannels srv(ampe);
    DestroyChannels cli(ampe);
    startListener(ampe, *srv, srvCfg);
    const Connection c = connect(ampe, *srv, *cli, cliCfg);

    MessagePtr req = ampe.request(c.clientCn, "ping");
    const BinaryHeader sent = cli->enqueueToPeer(req);
    MessagePtr got = expectMessage(*srv);
    REQUIRE(got->is(ValidCombination::AppRequest));
    REQUIRE(got->text() == "ping");
    got->asResponse("pong");
    srv->enqueueToPeer(got);
    MessagePtr resp = expectMessage(*cli);
    REQUIRE(resp->is(ValidCombination::AppResponse));
    REQUIRE(resp->id() == sent.message_id);
    REQUIRE(resp->channel() == c.clientCn);
    REQUIRE(resp->text() == "pong");
    REQUIRE_FALSE(resp->fromEngine());

    MessagePtr sig = ampe.signal(c.clientCn, "note");
    cli->enqueueToPeer(sig);
    REQUIRE(expectMessage(*srv)->is(ValidCombination::AppSignal));

    MessagePtr bye = ampe.byeRequest(c.clientCn);
    cli->enqueueToPeer(bye);
    MessagePtr byeReq = expectMessage(*srv);
    REQUIRE(byeReq->is(ValidCombination::ByeRequest));
    byeReq->asResponse();
    srv->enqueueToPeer(byeReq);
    REQUIRE(expectMessage(*cli)->is(ValidCombination::ByeResponse));
    MessagePtr notice = expectMessage(*cli);
    REQUIRE(notice->isCloseNotice());
    REQUIRE(notice->fromEngine());
    REQUIRE(notice->status() == AmpeStatus::channel_closed);
    REQUIRE_FALSE(notice->ok());
    expectClosedSignal(*srv, c.serverCn);
}

}  // namespace

TEST_CASE("api: builders over TCP: request, response, signal, bye", "[api][message][tcp]") {
    const std::uint16_t port = findFreeTcpPort();
    exchangeWithBuilders(TCPServerConfigurator("127.0.0.1", port), TCPClientConfigurator("127.0.0.1", port));
}

TEST_CASE("api: builders over UDS: a ByeSignal closes at once", "[api][message][uds]") {
    TOFU_SKIP_WITHOUT_UDS();
    const std::string path = tempUdsPath();
    auto rtr = Reactor::Create();
    Ampe& ampe = rtr->ampe();
    DestroyChannels srv(ampe);
    DestroyChannels cli(ampe);
    startListener(ampe, *srv, UDSServerConfigurator(path));
    const Connection c = connect(ampe, *srv, *cli, UDSClientConfigurator(path));
    MessagePtr bye = ampe.byeSignal(c.clientCn);
    cli->enqueueToPeer(bye);
    expectClosedSignal(*cli, c.clientCn);  // the ByeSignal comes back (channel_closed), then the notice
    expectClosedSignal(*srv, c.serverCn);
}

TEST_CASE("api: chrono timeouts convert and saturate", "[api][group]") {
    using namespace std::chrono_literals;
    static_assert(ChannelGroup::toTimeoutNs(0s) == 0);
    static_assert(ChannelGroup::toTimeoutNs(-5ms) == 0);
    static_assert(ChannelGroup::toTimeoutNs(1500ms) == 1'500'000'000ULL);
    static_assert(ChannelGroup::toTimeoutNs(std::chrono::hours::max()) == waitReceive_INFINITE_TIMEOUT);
    static_assert(ChannelGroup::toTimeoutNs(waitReceive_FOREVER) == waitReceive_INFINITE_TIMEOUT);
    static_assert(ChannelGroup::toTimeoutNs(std::chrono::duration<double>(0.25)) == 250'000'000ULL);

    auto rtr = Reactor::Create();
    Group g = rtr->ampe().createGroup();
    const auto start = std::chrono::steady_clock::now();
    REQUIRE_FALSE(g->waitReceive(50ms));  // nothing comes: empty after the timeout
    const auto waited = std::chrono::steady_clock::now() - start;
    REQUIRE(waited >= 45ms);
    REQUIRE(waited < 5s);

    g->updateReceiver();
    MessagePtr wake = g->waitReceive(waitReceive_FOREVER);  // something is queued: returns at once
    REQUIRE(wake);
    REQUIRE(wake->status() == AmpeStatus::receiver_update);
    REQUIRE(wake->isEngineSignal());
}

TEST_CASE("api: createGroup owns its group, error_code forms report instead of throwing", "[api][group]") {
    auto rtr = Reactor::Create();
    Ampe& ampe = rtr->ampe();
    ChannelGroup* raw = nullptr;
    {
        Group g = ampe.createGroup();
        raw = g.get();
        REQUIRE(raw != nullptr);
        REQUIRE(&g.ampe() == &ampe);
        Group other = ampe.createGroup();
        g = std::move(other);  // the first group is destroyed, the second one taken over
        REQUIRE(other.get() == nullptr);
        std::error_code ec;
        ampe.destroy(raw, ec);
        REQUIRE(ec == AmpeStatus::invalid_mchn_group);
        raw = g.get();
    }  // destroyed here
    std::error_code ec;
    ampe.destroy(raw, ec);
    REQUIRE(ec == AmpeStatus::invalid_mchn_group);
    REQUIRE(ec.category() == tofu_category());

    ChannelGroup* gone = ampe.create();
    ampe.destroy(gone);
    MessagePtr m = gone->waitReceive(std::chrono::seconds(1), ec);
    REQUIRE_FALSE(m);
    REQUIRE(ec == AmpeStatus::shutdown_started);
    MessagePtr sig = ampe.signal(1, "x");
    const BinaryHeader h = gone->enqueueToPeer(sig, ec);
    REQUIRE(ec == AmpeStatus::shutdown_started);
    REQUIRE(sig);  // refused: the caller keeps it
    REQUIRE(h.status == status_to_raw(AmpeStatus::shutdown_started));
    gone->updateReceiver(sig, ec);
    REQUIRE(ec == AmpeStatus::shutdown_started);

    MessagePtr fromPool = ampe.get(AllocationStrategy::always, ec);
    REQUIRE(fromPool);
    REQUIRE_FALSE(ec);
}

namespace {

// A server with `clients` connections, all closed but one, sends a signal to every channel it had: the
// error_code form reports the closed ones, no exception, and the open one gets its signal.
void fanOutOverClosedChannels(const Configurator& srvCfg, const Configurator& cliCfg) {
    auto rtr = Reactor::Create();
    Ampe& ampe = rtr->ampe();
    Group srv = ampe.createGroup();
    startListener(ampe, *srv, srvCfg);
    constexpr int Clients = 4;
    std::vector<Group> cli;
    std::vector<Connection> conns;
    for (int i = 0; i < Clients; ++i) {
        cli.push_back(ampe.createGroup());
        conns.push_back(connect(ampe, *srv, *cli.back(), cliCfg));
    }
    for (int i = 1; i < Clients; ++i) {  // all but the first leave at once
        cli[i]->enqueueToPeer(ampe.byeSignal(conns[i].clientCn));
        expectClosedSignal(*srv, conns[i].serverCn);
    }
    int refused = 0;
    for (const Connection& c : conns) {
        std::error_code ec;
        srv->post(ampe.signal(c.serverCn, "news"), ec);  // no try/catch per send
        if (ec) {
            REQUIRE(ec == AmpeStatus::invalid_channel_number);
            ++refused;
        }
    }
    REQUIRE(refused == Clients - 1);
    MessagePtr news = expectMessage(*cli[0]);
    REQUIRE(news->is(ValidCombination::AppSignal));
    REQUIRE(news->text() == "news");
}

}  // namespace

TEST_CASE("api: fan-out over TCP with closed channels needs no try/catch", "[api][group][tcp]") {
    const std::uint16_t port = findFreeTcpPort();
    fanOutOverClosedChannels(TCPServerConfigurator("127.0.0.1", port),
                             TCPClientConfigurator("127.0.0.1", port));
}

TEST_CASE("api: fan-out over UDS with closed channels needs no try/catch", "[api][group][uds]") {
    TOFU_SKIP_WITHOUT_UDS();
    const std::string path = tempUdsPath();
    fanOutOverClosedChannels(UDSServerConfigurator(path), UDSClientConfigurator(path));
}

TEST_CASE("api: parseUrl accepts TCP, bracketed IPv6 and UDS URLs", "[api][url]") {
    REQUIRE(parseUrl("tcp://127.0.0.1:7099", UrlRole::connect) ==
            Configurator(TCPClientConfigurator("127.0.0.1", 7099)));
    REQUIRE(parseUrl("tcp://example.org:1", UrlRole::connect) ==
            Configurator(TCPClientConfigurator("example.org", 1)));
    REQUIRE(parseUrl("tcp://[::1]:65535", UrlRole::connect) ==
            Configurator(TCPClientConfigurator("::1", 65535)));
    REQUIRE(parseUrl("tcp://:8080", UrlRole::listen) == Configurator(TCPServerConfigurator("", 8080)));
    REQUIRE(parseUrl("tcp://[::]:8080", UrlRole::listen) == Configurator(TCPServerConfigurator("::", 8080)));
    REQUIRE(parseUrl("uds:///tmp/a.sock", UrlRole::listen) ==
            Configurator(UDSServerConfigurator("/tmp/a.sock")));
    REQUIRE(parseUrl("uds://rel.sock", UrlRole::connect) == Configurator(UDSClientConfigurator("rel.sock")));
    for (const char* url : {"tcp://127.0.0.1:7099", "tcp://[::1]:9", "uds:///tmp/a.sock"}) {
        REQUIRE(toUrl(parseUrl(url, UrlRole::connect)) == url);
        REQUIRE(toUrl(parseUrl(url, UrlRole::listen)) == url);
    }
    REQUIRE(toUrl(Configurator(TCPServerConfigurator("", 5))) == "tcp://:5");
    REQUIRE(toUrl(Configurator()).empty());
}

TEST_CASE("api: parseUrl refuses malformed URLs with a reason", "[api][url]") {
    struct Bad {
        const char* url;
        UrlRole role;
        const char* reason;
    };
    const std::string longPath = "uds://" + std::string(MaxUdsPathLen + 1, 'p');
    const Bad bad[] = {
        {"", UrlRole::connect, "empty URL"},
        {"127.0.0.1:80", UrlRole::connect, "no scheme"},
        {"http://h:80", UrlRole::connect, "unknown scheme 'http'"},
        {"uds://", UrlRole::connect, "needs a socket path"},
        {longPath.c_str(), UrlRole::connect, "longer than 107 bytes"},
        {"uds://a|b", UrlRole::connect, "'|'"},
        {"tcp://", UrlRole::connect, "missing ':PORT'"},
        {"tcp://host", UrlRole::connect, "missing ':PORT'"},
        {"tcp://[::1]", UrlRole::connect, "missing ':PORT' after"},
        {"tcp://host:", UrlRole::connect, "port '' is not a number"},
        {"tcp://host:0", UrlRole::connect, "port '0'"},
        {"tcp://host:65536", UrlRole::connect, "port '65536'"},
        {"tcp://host:80x", UrlRole::connect, "port '80x'"},
        {"tcp://host:80/path", UrlRole::connect, "port '80/path'"},
        {"tcp://::1:80", UrlRole::connect, "goes in brackets"},
        {"tcp://[::1:80", UrlRole::connect, "closing ']'"},
        {"tcp://[::1]80", UrlRole::connect, "missing ':PORT' after"},
        {"tcp://[]:80", UrlRole::connect, "empty IPv6"},
        {"tcp://:80", UrlRole::connect, "a client needs a host"},
        {"tcp://a|b:80", UrlRole::connect, "is not a name or an IPv4 address"},
        {"tcp://a@b:80", UrlRole::connect, "is not a name or an IPv4 address"},
        {"tcp://ho st:80", UrlRole::connect, "is not a name or an IPv4 address"},
        {"tcp://[1.2.3.4]:80", UrlRole::connect, "is not an IPv6 address"},
        {"tcp://[::1%]:80", UrlRole::connect, "is not an IPv6 address"},
        {"tcp://[::1]x:80", UrlRole::connect, "missing ':PORT' after"},
    };
    for (const Bad& b : bad) {
        INFO(b.url);
        std::string why;
        const Configurator cfg = parseUrl(b.url, b.role, why);
        REQUIRE(cfg.isWrong());
        REQUIRE(cfg.status() == AmpeStatus::invalid_address);
        REQUIRE_THAT(why, Catch::Matchers::Contains(b.reason));
        try {
            (void)parseUrl(b.url, b.role);
            FAIL("no exception");
        } catch (const AmpeError& e) {
            REQUIRE(e.status() == AmpeStatus::invalid_address);
            REQUIRE_THAT(e.what(), Catch::Matchers::Contains(b.reason) &&
                                       Catch::Matchers::Contains(std::string("'") + b.url + "'"));
        }
    }
}

TEST_CASE("api: toUrl is the inverse of parseUrl, and names nothing a URL cannot carry", "[api][url]") {
    for (const char* url :
         {"tcp://host.example:80", "tcp://[fe80::1%eth0]:7099", "tcp://[::1]:1", "uds:///tmp/x.sock"}) {
        INFO(url);
        CHECK(toUrl(parseUrl(url, UrlRole::connect)) == url);
    }
    const Configurator any = parseUrl("uds://", UrlRole::listen);  // the engine picks the path
    REQUIRE(any.get_if<UDSServerConfigurator>() != nullptr);
    CHECK(any.get_if<UDSServerConfigurator>()->path.empty());
    CHECK(toUrl(any) == "uds://");
    CHECK(toUrl(TCPClientConfigurator("h|x", 80)).empty());
    CHECK(toUrl(Configurator(WrongConfigurator{AmpeStatus::invalid_address})).empty());
}

TEST_CASE("api: get(poolOnly, ec) says pool_empty when it gives nothing", "[api]") {
    Options o = DefaultOptions;
    o.initialPoolMsgs = 1;
    o.maxPoolMsgs = 1;
    auto rtr = Reactor::Create(o);
    Ampe& ampe = rtr->ampe();
    std::error_code ec;
    MessagePtr only = ampe.get(AllocationStrategy::poolOnly, ec);
    REQUIRE(only);
    CHECK_FALSE(ec);
    MessagePtr none = ampe.get(AllocationStrategy::poolOnly, ec);
    CHECK_FALSE(none);
    CHECK(ec == AmpeStatus::pool_empty);
    MessagePtr made = ampe.get(AllocationStrategy::always, ec);
    CHECK(made);
    CHECK_FALSE(ec);
}

TEST_CASE("api: asResponse refuses a WelcomeRequest (the engine answers it)", "[api]") {
    MessagePtr m = Message::create();
    TCPServerConfigurator("127.0.0.1", 7099).prepareRequest(*m);
    try {
        m->asResponse();
        FAIL("no exception");
    } catch (const AmpeError& e) {
        CHECK(e.status() == AmpeStatus::not_allowed);
    }
    CHECK(m->role() == MessageRole::request);
}

TEST_CASE("api: a parsed URL listens and connects over TCP and UDS", "[api][url][tcp][uds]") {
    auto rtr = Reactor::Create();
    Ampe& ampe = rtr->ampe();
    const std::string tcp = "tcp://127.0.0.1:" + std::to_string(findFreeTcpPort());
    const std::string uds = "uds://" + tempUdsPath();
    for (const std::string& url : {tcp, uds}) {
        INFO(url);
        if (url == uds && test::udsUnavailable()) {
            WARN("SKIP: the UDS URL (TCP ran): " << *test::udsUnavailable());
            continue;
        }
        Group srv = ampe.createGroup();
        Group cli = ampe.createGroup();
        startListener(ampe, *srv, parseUrl(url, UrlRole::listen));
        const Connection c = connect(ampe, *srv, *cli, parseUrl(url, UrlRole::connect));
        REQUIRE(c.clientCn != 0);
    }
}
