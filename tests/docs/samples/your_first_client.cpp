// Sample for docs/guide/your-first-client.md: a complete TCP client.
//   your_first_client [HOST [PORT]]   connects to HOST:PORT (default 127.0.0.1:7099), asks once, says bye.
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <tofu/tofu.hpp>

namespace {

// --8<-- [start:next]
tofu::MessagePtr next(tofu::ChannelGroup& chnls) {
    for (;;) {
        tofu::MessagePtr msg = chnls.waitReceive(std::chrono::seconds(5));  // 5 * waitReceive_SEC_TIMEOUT
        if (!msg) {
            throw tofu::AmpeError(tofu::AmpeStatus::communication_failed, "no answer within 5 s");
        }
        if (msg->fromEngine() && msg->status() == tofu::AmpeStatus::pool_empty) {
            continue;  // the engine had to wait for a free message: nothing for us to do
        }
        return msg;
    }
}
// --8<-- [end:next]

// --8<-- [start:connect]
tofu::ChannelNumber connect(tofu::Ampe& ampe, tofu::ChannelGroup& chnls, const std::string& host,
                            std::uint16_t port) {
    tofu::MessagePtr hello = ampe.get(tofu::AllocationStrategy::always);
    tofu::TCPClientConfigurator(host, port).prepareRequest(*hello);  // HelloRequest, ~connect_to header
    const tofu::ChannelNumber server = chnls.enqueueToPeer(hello).channel_number;  // keep it

    tofu::MessagePtr answer = next(chnls);
    if (answer->fromEngine()) {
        tofu::raw_to_error(*answer);  // our Hello came back: connect_failed, invalid_address... and why
    }
    if (answer->type() != tofu::MessageType::hello) {
        throw tofu::AmpeError(tofu::AmpeStatus::connect_failed, "the server refused us");
    }
    return server;  // connected: every message to the server carries this channel number
}
// --8<-- [end:connect]

// --8<-- [start:ask]
std::string ask(tofu::Ampe& ampe, tofu::ChannelGroup& chnls, tofu::ChannelNumber server,
                std::string_view text) {
    // a request on the server's channel; the engine picks its id and returns it in the header
    const tofu::MessageID id = chnls.enqueueToPeer(ampe.request(server, text)).message_id;

    tofu::MessagePtr resp = next(chnls);
    if (resp->fromEngine()) {
        tofu::raw_to_error(*resp);  // the request came back unsent, or the channel closed
        throw tofu::AmpeError(tofu::AmpeStatus::channel_closed, "the server went away");
    }
    if (!resp->is(tofu::ValidCombination::AppResponse) || resp->id() != id) {
        throw tofu::AmpeError(tofu::AmpeStatus::invalid_message, "not our response");
    }
    return std::string(resp->text());
}
// --8<-- [end:ask]

// --8<-- [start:bye]
void sayBye(tofu::Ampe& ampe, tofu::ChannelGroup& chnls, tofu::ChannelNumber server) {
    chnls.enqueueToPeer(ampe.byeRequest(server));  // a ByeRequest on the server's channel

    for (;;) {  // the ByeResponse, then the channel's close notice: the channel is gone
        tofu::MessagePtr msg = next(chnls);
        if (msg->isCloseNotice()) {
            return;
        }
    }
}
// --8<-- [end:bye]

}  // namespace

// --8<-- [start:main]
int main(int argc, char** argv) {
    const std::string host = argc > 1 ? argv[1] : std::string(tofu::DefaultAddr);
    const auto port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : tofu::DefaultPort);
    try {
        std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create();
        tofu::Ampe& ampe = reactor->ampe();
        tofu::Group chnls = ampe.createGroup();  // the original's DestroyChannels chnls(ampe)

        const tofu::ChannelNumber server = connect(ampe, *chnls, host, port);
        fmt::print("connected on channel {}\n", server);
        fmt::print("server says: {}\n", ask(ampe, *chnls, server, "ping"));
        sayBye(ampe, *chnls, server);
        fmt::print("disconnected\n");
        return 0;
    } catch (const tofu::AmpeError& e) {
        fmt::print(stderr, "client: {} ({})\n", e.what(), tofu::statusName(e.status()));
        return 1;
    }
}
// --8<-- [end:main]
