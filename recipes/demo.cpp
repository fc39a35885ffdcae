// tofu_demo: one engine, a server group and a client group, over TCP and over a Unix socket.
// Welcome (listen), Hello (connect), a few request/response round trips, then bye — printed as it goes.
#include <fmt/format.h>

#include <chrono>
#include <string>
#include <string_view>

#include "tofu/tofu.hpp"

namespace {

tofu::MessagePtr receive(tofu::ChannelGroup& group) {
    tofu::MessagePtr msg = group.waitReceive(5 * tofu::waitReceive_SEC_TIMEOUT);
    if (!msg) {
        throw tofu::AmpeError(tofu::AmpeStatus::communication_failed, "no message within 5 s");
    }
    return msg;
}

std::string_view text(const tofu::Message& msg) {
    return msg.body.view();
}

void roundTrips(tofu::Ampe& ampe, const tofu::Configurator& server, const tofu::Configurator& client,
                std::string_view label) {
    tofu::DestroyChannels srv(ampe);  // groups are destroyed (channels closed) at scope end
    tofu::DestroyChannels cli(ampe);

    // Welcome: the server group starts listening.
    tofu::MessagePtr welcome = ampe.get(tofu::AllocationStrategy::always);
    server.prepareRequest(*welcome);
    srv->enqueueToPeer(welcome);
    tofu::MessagePtr welcomed = receive(*srv);
    fmt::print("[{}] listening:   {}\n", label, welcomed->bhdr);
    tofu::status_to_error(welcomed->status());

    // Hello: the client connects; the HelloRequest itself travels to the server, which answers.
    tofu::MessagePtr hello = ampe.get(tofu::AllocationStrategy::always);
    client.prepareRequest(*hello);
    const tofu::BinaryHeader helloHdr = cli->enqueueToPeer(hello);
    tofu::MessagePtr helloReq = receive(*srv);
    const std::string_view cfg = helloReq->thdrs.view();
    fmt::print("[{}] server got:  {}  {}\n", label, helloReq->bhdr, cfg.substr(0, cfg.find('\r')));
    helloReq->asResponse();
    srv->enqueueToPeer(helloReq);
    tofu::MessagePtr helloResp = receive(*cli);
    fmt::print("[{}] client got:  {}\n", label, helloResp->bhdr);
    tofu::status_to_error(helloResp->status());

    // Requests and responses; the server echoes the body upper-cased.
    const auto start = std::chrono::steady_clock::now();
    constexpr int Rounds = 1000;
    for (int i = 0; i < Rounds; ++i) {
        cli->enqueueToPeer(ampe.request(helloHdr.channel_number, fmt::format("hello tofu #{}", i)));

        tofu::MessagePtr got = receive(*srv);
        for (std::uint8_t* p = got->body.data(); p != got->body.data() + got->body.size(); ++p) {
            if (*p >= 'a' && *p <= 'z') {
                *p = static_cast<std::uint8_t>(*p - 'a' + 'A');
            }
        }
        got->asResponse();
        srv->enqueueToPeer(got);

        tofu::MessagePtr resp = receive(*cli);
        if (i < 3 || i == Rounds - 1) {
            fmt::print("[{}] round trip: {} -> {}\n", label, fmt::format("hello tofu #{}", i), text(*resp));
        }
    }
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
    fmt::print("[{}] {} round trips in {} us ({:.1f} us each)\n", label, Rounds, us.count(),
               static_cast<double>(us.count()) / Rounds);

    // Bye: request, response, and the client's channel closes.
    cli->enqueueToPeer(ampe.byeRequest(helloHdr.channel_number));
    tofu::MessagePtr byeReq = receive(*srv);
    byeReq->asResponse();
    srv->enqueueToPeer(byeReq);
    tofu::MessagePtr byeResp = receive(*cli);
    fmt::print("[{}] client got:  {}\n", label, byeResp->bhdr);
    tofu::MessagePtr closed = receive(*cli);
    fmt::print("[{}] client got:  {}\n", label, closed->bhdr);
}

}  // namespace

// tofu_demo [--tcp-only]: --tcp-only leaves out the Unix socket, for systems without one (Wine 8).
int main(int argc, char** argv) {
    const bool tcpOnly = argc > 1 && std::string_view(argv[1]) == "--tcp-only";
    try {
        // The wire format: a 16-byte big-endian header, then text headers, then the body.
        tofu::BinaryHeader h;
        h.channel_number = 0x1234;
        h.proto.role = tofu::MessageRole::request;
        h.message_id = 0x0102030405060708ULL;
        h.thl = 3;
        h.bl = 5;
        const tofu::BinaryHeader::Bytes bytes = h.toBytes();
        fmt::print("header {}\n  encodes to", h);
        for (std::uint8_t b : bytes) {
            fmt::print(" {:02x}", b);
        }
        fmt::print("\n  decodes to {}\n\n", tofu::BinaryHeader::from(bytes));

        std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create();
        tofu::Ampe& ampe = reactor->ampe();
        const std::uint16_t port = tofu::findFreeTcpPort();
        roundTrips(ampe, tofu::TCPServerConfigurator("127.0.0.1", port),
                   tofu::TCPClientConfigurator("127.0.0.1", port), "tcp");
        if (!tcpOnly) {
            const std::string path = tofu::tempUdsPath();
            roundTrips(ampe, tofu::UDSServerConfigurator(path), tofu::UDSClientConfigurator(path), "uds");
        }
        fmt::print("\ndone\n");
        return 0;
    } catch (const tofu::AmpeError& e) {
        fmt::print(stderr, "tofu_demo: {} ({})\n", e.what(), tofu::statusName(e.status()));
        return 1;
    }
}
