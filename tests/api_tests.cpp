// The convenience layer over the original's API (issue #15): message shapes and accessors, chrono and
// error_code overloads, the owning group handle, URLs, the requester and the reconnecting client.
#include <catch2/catch.hpp>
#include <string>

#include "engine_test_support.hpp"
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
