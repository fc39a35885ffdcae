// Interop: an independent peer written with standalone asio speaks the wire format byte by byte
// (it never uses tofu's encoder), against a tofu listener and a tofu client.
#include <asio.hpp>
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "engine_test_support.hpp"
#include "raw_wire.hpp"
#include "test_platform.hpp"

using namespace tofu;
using namespace tofu::testing;
using asio::ip::tcp;

namespace {

using Bytes = std::vector<std::uint8_t>;

using namespace tofu::testing::wire;

struct RawFrame {
    std::uint16_t ch = 0;
    std::uint8_t proto = 0;
    std::uint8_t status = 0;
    std::uint64_t id = 0;
    std::string headers;
    std::string body;
};

RawFrame readFrame(tcp::socket& s) {
    std::uint8_t h[16];
    asio::read(s, asio::buffer(h));
    RawFrame f;
    f.ch = static_cast<std::uint16_t>((h[0] << 8) | h[1]);
    f.proto = h[2];
    f.status = h[3];
    for (int i = 4; i < 12; ++i) {
        f.id = (f.id << 8) | h[i];
    }
    const std::size_t thl = static_cast<std::size_t>((h[12] << 8) | h[13]);
    const std::size_t bl = static_cast<std::size_t>((h[14] << 8) | h[15]);
    f.headers.resize(thl);
    f.body.resize(bl);
    if (thl > 0) {
        asio::read(s, asio::buffer(f.headers));
    }
    if (bl > 0) {
        asio::read(s, asio::buffer(f.body));
    }
    return f;
}

/// True when the peer closed the connection (reads EOF or reset) within a bounded time.
bool peerClosed(tcp::socket& s) {
    s.non_blocking(false);
    test::setTimeout(s.native_handle(), SO_RCVTIMEO, std::chrono::seconds(10));
    std::uint8_t b = 0;
    asio::error_code ec;
    s.read_some(asio::buffer(&b, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
}

}  // namespace

TEST_CASE("interop: asio client against a tofu listener", "[interop][tcp]") {
    auto rtr = Reactor::Create();
    Ampe& ampe = rtr->ampe();
    DestroyChannels srv(ampe);
    const std::uint16_t port = findFreeTcpPort();
    startListener(ampe, *srv, TCPServerConfigurator("127.0.0.1", port));

    asio::io_context io;
    tcp::socket sock(io);
    sock.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));

    // HelloRequest from channel 0x0102 with id 77 and the client's address line.
    const std::string hello = "~connect_to:tcp|127.0.0.1|" + std::to_string(port) + "\r\n";
    asio::write(sock, asio::buffer(frame(0x0102, HelloRequestProto, 77, hello, "")));
    MessagePtr req = expectMessage(*srv);
    REQUIRE(vcOf(*req) == ValidCombination::HelloRequest);
    REQUIRE(req->bhdr.message_id == 77);
    REQUIRE(req->bhdr.channel_number != 0x0102);  // replaced by the receiver's own number
    // The client's line as sent, then the engine's note of who connected (from the socket itself).
    const std::string peer = "tcp|127.0.0.1|" + std::to_string(sock.local_endpoint().port());
    REQUIRE(req->thdrs.view() == hello + std::string(PeerAddressHeader) + ":" + peer + "\r\n");
    const ChannelNumber serverCn = req->bhdr.channel_number;
    req->bhdr.proto.role = MessageRole::response;
    req->body.assign(std::string_view("welcome"));
    srv->enqueueToPeer(req);  // the request's headers go back, the engine's note does not

    RawFrame resp = readFrame(sock);
    CHECK(resp.ch == serverCn);  // the sender's channel number travels
    CHECK(resp.proto == HelloResponseProto);
    CHECK(resp.status == 0);
    CHECK(resp.id == 77);
    CHECK(resp.headers == hello);
    CHECK(resp.body == "welcome");

    // Two requests in one write: both delivered, answered in order.
    Bytes two = frame(0x0102, AppRequestProto, 1000, "k:v\r\n", "first");
    const Bytes second = frame(0x0102, AppRequestProto, 1001, "", std::string(5000, 'z'));
    two.insert(two.end(), second.begin(), second.end());
    asio::write(sock, asio::buffer(two));
    for (std::uint64_t id : {1000u, 1001u}) {
        MessagePtr m = expectMessage(*srv);
        REQUIRE(vcOf(*m) == ValidCombination::AppRequest);
        REQUIRE(m->bhdr.message_id == id);
        REQUIRE(m->bhdr.channel_number == serverCn);
        m->bhdr.proto.role = MessageRole::response;
        srv->enqueueToPeer(m);
    }
    RawFrame r1 = readFrame(sock);
    CHECK(r1.proto == AppResponseProto);
    CHECK(r1.id == 1000);
    CHECK(r1.headers == "k:v\r\n");
    CHECK(r1.body == "first");
    RawFrame r2 = readFrame(sock);
    CHECK(r2.id == 1001);
    CHECK(r2.body == std::string(5000, 'z'));

    // A signal from tofu with oob: bytes as specified.
    MessagePtr sig = appMessage(ampe, MessageRole::signal, serverCn, "s");
    sig->bhdr.proto.oob = Oob::on;
    const BinaryHeader sent = srv->enqueueToPeer(sig);
    RawFrame rs = readFrame(sock);
    CHECK(rs.proto == (AppSignalProto | 0x40));
    CHECK(rs.id == sent.message_id);

    // An invalid frame (origin engine) gets the peer disconnected; the app sees only the close.
    asio::write(sock, asio::buffer(frame(0x0102, AppRequestProto | 0x10, 5, "", "evil")));
    REQUIRE(peerClosed(sock));
    expectClosedSignal(*srv, serverCn);
}

TEST_CASE("interop: hostile first frames are refused", "[interop][tcp]") {
    auto rtr = Reactor::Create();
    Ampe& ampe = rtr->ampe();
    DestroyChannels srv(ampe);
    const std::uint16_t port = findFreeTcpPort();
    startListener(ampe, *srv, TCPServerConfigurator("127.0.0.1", port));
    asio::io_context io;

    const std::vector<Bytes> bad = {
        frame(1, AppRequestProto, 1, "", "not a hello first"),
        frame(1, 1 | (1 << 2), 1, "~listen_on:tcp||1\r\n", ""),  // a WelcomeRequest never travels
        frame(1, HelloRequestProto | 0x80, 1, "a:b\r\n", ""),    // internal bit
        frame(1, HelloRequestProto | 0x20, 1, "a:b\r\n", ""),    // `more` on a hello
        frame(1, 0 | (0 << 2), 1, "", ""),                       // role invalid
        frame(1, HelloResponseProto, 0, "", ""),                 // a response without id
    };
    for (const Bytes& b : bad) {
        tcp::socket sock(io);
        sock.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
        asio::write(sock, asio::buffer(b));
        REQUIRE(peerClosed(sock));
    }
    // A frame cut in the middle then a close: nothing reaches the application but nothing leaks.
    {
        tcp::socket sock(io);
        sock.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
        Bytes b = frame(1, HelloRequestProto, 9, "~connect_to:tcp|x|1\r\n", std::string(1000, 'q'));
        b.resize(100);
        asio::write(sock, asio::buffer(b));
        sock.close();
    }
    // Nothing of the above was delivered (accepted channels close silently before any Hello).
    REQUIRE_FALSE(srv->waitReceive(200'000'000));
}

TEST_CASE("interop: tofu client against an asio server", "[interop][tcp]") {
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const std::uint16_t port = acceptor.local_endpoint().port();

    auto rtr = Reactor::Create();
    Ampe& ampe = rtr->ampe();
    DestroyChannels cli(ampe);
    MessagePtr hello = ampe.get(AllocationStrategy::always);
    TCPClientConfigurator("127.0.0.1", port).prepareRequest(*hello);
    const BinaryHeader sent = cli->enqueueToPeer(hello);
    // An oob signal posted while the client still connects waits behind the Hello.
    MessagePtr early = appMessage(ampe, MessageRole::signal, sent.channel_number, "early");
    early->bhdr.proto.oob = Oob::on;
    cli->enqueueToPeer(early);

    tcp::socket sock(io);
    acceptor.accept(sock);
    RawFrame req = readFrame(sock);
    CHECK(req.ch == sent.channel_number);
    CHECK(req.proto == HelloRequestProto);
    CHECK(req.status == 0);
    CHECK(req.id == sent.message_id);
    CHECK(req.headers == "~connect_to:tcp|127.0.0.1|" + std::to_string(port) + "\r\n");

    asio::write(sock, asio::buffer(frame(7, HelloResponseProto, req.id, "", "hi")));
    MessagePtr resp = expectMessage(*cli);
    REQUIRE(vcOf(*resp) == ValidCombination::HelloResponse);
    REQUIRE(resp->bhdr.channel_number == sent.channel_number);  // ours, not the server's 7
    REQUIRE(resp->bhdr.message_id == sent.message_id);
    REQUIRE(bodyText(*resp) == "hi");

    RawFrame first = readFrame(sock);  // the oob signal, right after the Hello
    CHECK(first.proto == (AppSignalProto | 0x40));
    CHECK(first.body == "early");

    // Regular and oob messages mixed: each kind arrives in the order it was posted (oob ones may
    // overtake regular ones), then a bye.
    for (int i = 0; i < 3; ++i) {
        MessagePtr m = appMessage(ampe, MessageRole::signal, sent.channel_number, "m" + std::to_string(i));
        cli->enqueueToPeer(m);
        MessagePtr o = appMessage(ampe, MessageRole::signal, sent.channel_number, "o" + std::to_string(i));
        o->bhdr.proto.oob = Oob::on;
        cli->enqueueToPeer(o);
    }
    int nextM = 0;
    int nextO = 0;
    for (int i = 0; i < 6; ++i) {
        RawFrame f = readFrame(sock);
        CHECK(f.ch == sent.channel_number);
        if ((f.proto & 0x40) != 0) {
            CHECK(f.proto == (AppSignalProto | 0x40));
            CHECK(f.body == "o" + std::to_string(nextO++));
        } else {
            CHECK(f.proto == AppSignalProto);
            CHECK(f.body == "m" + std::to_string(nextM++));
        }
    }
    CHECK(nextM == 3);
    CHECK(nextO == 3);
    MessagePtr bye = ampe.get(AllocationStrategy::always);
    bye->bhdr.proto.mtype = MessageType::bye;
    bye->bhdr.proto.role = MessageRole::request;
    bye->bhdr.channel_number = sent.channel_number;
    const BinaryHeader byeHdr = cli->enqueueToPeer(bye);
    RawFrame fb = readFrame(sock);
    CHECK(fb.proto == ByeRequestProto);
    CHECK(fb.id == byeHdr.message_id);

    // The server answers ByeResponse: the client delivers it and closes.
    asio::write(sock, asio::buffer(frame(7, 3 | (2 << 2), fb.id, "", "")));
    MessagePtr br = expectMessage(*cli);
    REQUIRE(vcOf(*br) == ValidCombination::ByeResponse);
    expectClosedSignal(*cli, sent.channel_number);
    REQUIRE(peerClosed(sock));
}

TEST_CASE("interop: asio server that drops the connection", "[interop][tcp]") {
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const std::uint16_t port = acceptor.local_endpoint().port();
    auto rtr = Reactor::Create();
    Ampe& ampe = rtr->ampe();
    DestroyChannels cli(ampe);
    MessagePtr hello = ampe.get(AllocationStrategy::always);
    TCPClientConfigurator("127.0.0.1", port).prepareRequest(*hello);
    const BinaryHeader sent = cli->enqueueToPeer(hello);
    {
        tcp::socket sock(io);
        acceptor.accept(sock);
        (void)readFrame(sock);
        // a second message queued behind the Hello may or may not be sent before the close
    }
    expectClosedSignal(*cli, sent.channel_number);
}

TEST_CASE("interop: hostile peers — silent, maximum lengths, half-close", "[interop][hostile]") {
    auto rtr = Reactor::Create();
    Ampe& ampe = rtr->ampe();
    DestroyChannels srv(ampe);
    const std::uint16_t port = findFreeTcpPort();
    startListener(ampe, *srv, TCPServerConfigurator("127.0.0.1", port));
    asio::io_context io;

    // A peer that connects and says nothing does not stop others from being served.
    tcp::socket silent(io);
    silent.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));

    // Maximum lengths: 65535 bytes of headers and 65535 of body in one frame.
    tcp::socket big(io);
    big.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    std::string headers = "~connect_to:tcp|127.0.0.1|" + std::to_string(port) + "\r\n";
    headers += "pad:" + std::string(65535 - headers.size() - 6, 'h') + "\r\n";
    REQUIRE(headers.size() == 65535);
    asio::write(big, asio::buffer(frame(9, HelloRequestProto, 4242, headers, std::string(65535, 'b'))));
    MessagePtr req = expectMessage(*srv);
    REQUIRE(vcOf(*req) == ValidCombination::HelloRequest);
    REQUIRE(req->bhdr.thl == 65535);
    REQUIRE(req->bhdr.bl == 65535);
    REQUIRE(req->thdrs.view() == headers);
    REQUIRE(req->body.view() == std::string(65535, 'b'));
    const ChannelNumber bigCn = req->bhdr.channel_number;
    req->bhdr.proto.role = MessageRole::response;
    srv->enqueueToPeer(req);
    RawFrame echoed = readFrame(big);
    CHECK(echoed.headers.size() == 65535);
    CHECK(echoed.body.size() == 65535);

    // Half-close: the peer shuts its sending side; tofu treats it as a close.
    big.shutdown(tcp::socket::shutdown_send);
    expectClosedSignal(*srv, bigCn);
    REQUIRE(peerClosed(big));

    // The silent peer is still connected and harmless; a new client is served.
    tcp::socket late(io);
    late.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    asio::write(late, asio::buffer(frame(3, HelloRequestProto, 77, "a:b\r\n", "")));
    MessagePtr lateReq = expectMessage(*srv);
    REQUIRE(lateReq->bhdr.message_id == 77);
}

TEST_CASE("interop: a slow reader meets the send-queue limit, then gets every accepted message",
          "[interop][hostile]") {
    Options opts;
    opts.maxSendQueueBytes = 256 * 1024;
    auto rtr = Reactor::Create(opts);
    Ampe& ampe = rtr->ampe();
    DestroyChannels srv(ampe);
    const std::uint16_t port = findFreeTcpPort();
    startListener(ampe, *srv, TCPServerConfigurator("127.0.0.1", port));
    asio::io_context io;
    tcp::socket reader(io);
    reader.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    int small = 16 * 1024;  // keep the kernel's share small so the engine's queue fills soon
    test::setIntOption(reader.native_handle(), SOL_SOCKET, SO_RCVBUF, small);
    asio::write(reader, asio::buffer(frame(1, HelloRequestProto, 5, "a:b\r\n", "")));
    MessagePtr hello = expectMessage(*srv);
    REQUIRE(vcOf(*hello) == ValidCombination::HelloRequest);
    const ChannelNumber cn = hello->bhdr.channel_number;
    hello->bhdr.proto.role = MessageRole::response;
    srv->enqueueToPeer(hello);
    REQUIRE(readFrame(reader).proto == HelloResponseProto);

    // The peer stops reading. Send 8 KiB signals until the engine hands some back.
    const std::string body(8 * 1024, 's');
    int sent = 0;
    int refused = 0;
    std::vector<int> refusedSeq;
    while (refused == 0 && sent < 10'000) {
        MessagePtr m = appMessage(ampe, MessageRole::signal, cn, body);
        m->thdrs.append("seq", std::to_string(sent));
        srv->enqueueToPeer(m);
        ++sent;
        // Look at what came back so far, without waiting.
        while (MessagePtr back = srv->waitReceive(0)) {
            INFO(describe(*back));
            REQUIRE(back->bhdr.proto.origin == OriginFlag::engine);
            REQUIRE(statusOf(*back) == AmpeStatus::send_failed);
            REQUIRE(back->bhdr.channel_number == cn);
            refusedSeq.push_back(std::stoi(std::string(*back->thdrs.find("seq"))));
            ++refused;
        }
    }
    REQUIRE(refused > 0);
    // A Welcome that must fail is handled after every send above: once it is back, all refusals are in.
    MessagePtr marker = ampe.get(AllocationStrategy::always);
    UDSServerConfigurator(tempUdsPath() + "/no-such-dir/x").prepareRequest(*marker);
    const ChannelNumber markerCn = srv->enqueueToPeer(marker).channel_number;
    for (bool done = false; !done;) {
        MessagePtr back = expectMessage(*srv);
        if (back->bhdr.channel_number == markerCn) {
            REQUIRE(back->bhdr.proto.mtype == MessageType::welcome);
            expectClosedSignal(*srv, markerCn);
            done = true;
            continue;
        }
        INFO(describe(*back));
        REQUIRE(statusOf(*back) == AmpeStatus::send_failed);
        refusedSeq.push_back(std::stoi(std::string(*back->thdrs.find("seq"))));
        ++refused;
    }
    // The engine held at most the limit; the rest of the accepted bytes sit in kernel buffers.
    CHECK(static_cast<std::size_t>(sent - refused) * body.size() < 256 * 1024 + 8 * 1024 * 1024);

    // The reader wakes up: every message the engine kept arrives, in order, none of the refused ones.
    std::size_t r = 0;
    for (int seq = 0; seq < sent; ++seq) {
        if (r < refusedSeq.size() && refusedSeq[r] == seq) {
            ++r;
            continue;
        }
        const RawFrame f = readFrame(reader);
        REQUIRE(f.proto == AppSignalProto);
        REQUIRE(f.headers == "seq:" + std::to_string(seq) + "\r\n");
        REQUIRE(f.body.size() == body.size());
    }
    // And the channel is still open: one more message goes through.
    MessagePtr last = appMessage(ampe, MessageRole::signal, cn, "after");
    srv->enqueueToPeer(last);
    REQUIRE(readFrame(reader).body == "after");
}
