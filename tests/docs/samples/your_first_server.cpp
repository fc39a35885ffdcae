// Sample for docs/guide/your-first-server.md: a complete TCP server.
//   your_first_server [PORT [CLIENTS]]   listens on 127.0.0.1:PORT (default 7099); with CLIENTS > 0 it
//                                        exits after that many clients have come and gone.
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <tofu/tofu.hpp>

namespace {

// --8<-- [start:listen]
tofu::ChannelNumber startListener(tofu::Ampe& ampe, tofu::ChannelGroup& chnls, std::uint16_t port) {
    tofu::MessagePtr welcome = ampe.get(tofu::AllocationStrategy::always);
    tofu::TCPServerConfigurator("127.0.0.1", port).prepareRequest(*welcome);  // "" would listen everywhere
    const tofu::ChannelNumber listener = chnls.enqueueToPeer(welcome).channel_number;

    tofu::MessagePtr answer = chnls.waitReceive(10 * tofu::waitReceive_SEC_TIMEOUT);
    if (!answer) {
        throw tofu::AmpeError(tofu::AmpeStatus::listen_failed, "no answer to the WelcomeRequest");
    }
    tofu::raw_to_error(answer->bhdr.status);  // throws AmpeError(listen_failed) when the port is taken
    return listener;
}
// --8<-- [end:listen]

// --8<-- [start:reply]
void reply(tofu::ChannelGroup& chnls, tofu::MessagePtr& msg) {
    msg->bhdr.proto.role = tofu::MessageRole::response;  // same message back: same channel, same id
    try {
        chnls.enqueueToPeer(msg);
    } catch (const tofu::AmpeError& e) {
        fmt::print(stderr, "cannot answer channel {}: {}\n", msg->bhdr.channel_number, e.status());
    }
}
// --8<-- [end:reply]

// --8<-- [start:serve]
void serve(tofu::ChannelGroup& chnls, tofu::ChannelNumber listener, int clientsToServe) {
    int departed = 0;
    while (clientsToServe == 0 || departed < clientsToServe) {
        tofu::MessagePtr msg = chnls.waitReceive(tofu::waitReceive_INFINITE_TIMEOUT);
        if (!msg) {
            continue;
        }
        const tofu::BinaryHeader& bh = msg->bhdr;

        if (bh.proto.origin == tofu::OriginFlag::engine) {  // news from the engine, not from a client
            if (msg->isCloseNotice()) {                     // a channel is gone (not a returned answer)
                if (bh.channel_number == listener) {
                    return;  // the listener itself is gone
                }
                fmt::print("channel {} closed\n", bh.channel_number);
                ++departed;
            }
            continue;  // pool_empty and the rest: msg returns to the pool here
        }
        if (bh.proto.role != tofu::MessageRole::request) {
            continue;  // signals and responses: nothing to answer
        }
        switch (bh.proto.mtype) {
            case tofu::MessageType::hello:  // a new client, on a channel of its own
                fmt::print("channel {} connected\n", bh.channel_number);
                reply(chnls, msg);  // HelloResponse: accepted
                break;
            case tofu::MessageType::regular: {
                const std::string answer = fmt::format("echo: {}", msg->body.view());
                msg->body.assign(answer);
                reply(chnls, msg);
                break;
            }
            case tofu::MessageType::bye:
                reply(chnls, msg);  // ByeResponse; then the channel closes
                break;
            default:
                break;
        }
    }
}
// --8<-- [end:serve]

}  // namespace

// --8<-- [start:main]
int main(int argc, char** argv) {
    const auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : tofu::DefaultPort);
    const int clientsToServe = argc > 2 ? std::atoi(argv[2]) : 0;  // 0: serve forever
    try {
        std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create();
        tofu::Ampe& ampe = reactor->ampe();
        tofu::DestroyChannels chnls(ampe);

        const tofu::ChannelNumber listener = startListener(ampe, *chnls, port);
        fmt::print("listening on 127.0.0.1:{}\n", port);
        std::fflush(stdout);

        serve(*chnls, listener, clientsToServe);
        return 0;
    } catch (const tofu::AmpeError& e) {
        fmt::print(stderr, "server: {}\n", e.what());
        return 1;
    }
}
// --8<-- [end:main]
