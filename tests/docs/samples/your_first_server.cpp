// Sample for docs/guide/your-first-server.md: a complete TCP server.
//   your_first_server [PORT [CLIENTS]]   listens on 127.0.0.1:PORT (default 7099); with CLIENTS > 0 it
//                                        exits after that many clients have come and gone.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>
#include <tofu/tofu.hpp>

namespace {

// --8<-- [start:listen]
tofu::ChannelNumber startListener(tofu::Ampe& ampe, tofu::ChannelGroup& chnls, std::uint16_t port) {
    tofu::MessagePtr welcome = ampe.get(tofu::AllocationStrategy::always);
    tofu::TCPServerConfigurator("127.0.0.1", port).prepareRequest(*welcome);  // "" would listen everywhere
    const tofu::ChannelNumber listener = chnls.enqueueToPeer(welcome).channel_number;

    tofu::MessagePtr answer = chnls.waitReceive(std::chrono::seconds(10));
    if (!answer) {
        throw tofu::AmpeError(tofu::AmpeStatus::listen_failed, "no answer to the WelcomeRequest");
    }
    tofu::raw_to_error(*answer);  // throws AmpeError(listen_failed) when the port is taken, saying why
    return listener;
}
// --8<-- [end:listen]

// --8<-- [start:reply]
void reply(tofu::ChannelGroup& chnls, tofu::MessagePtr& msg) {
    msg->asResponse();  // role flipped: same message back, same channel, same id
    std::error_code ec;
    chnls.enqueueToPeer(msg, ec);  // without exceptions: the client may have left meanwhile
    if (ec) {
        fmt::print(stderr, "cannot answer channel {}: {}\n", msg->channel(), ec.message());
    }
}
// --8<-- [end:reply]

// --8<-- [start:serve]
void serve(tofu::ChannelGroup& chnls, tofu::ChannelNumber listener, int clientsToServe) {
    int departed = 0;
    while (clientsToServe == 0 || departed < clientsToServe) {
        tofu::MessagePtr msg = chnls.waitReceive(tofu::waitReceive_FOREVER);
        if (!msg) {
            continue;
        }
        if (msg->fromEngine()) {         // news from the engine, not from a client
            if (msg->isCloseNotice()) {  // a channel is gone (not a returned answer)
                if (msg->channel() == listener) {
                    return;  // the listener itself is gone
                }
                fmt::print("channel {} closed\n", msg->channel());
                ++departed;
            }
            continue;  // pool_empty and the rest: msg returns to the pool here
        }
        if (msg->role() != tofu::MessageRole::request) {
            continue;  // signals and responses: nothing to answer
        }
        switch (msg->type()) {
            case tofu::MessageType::hello:  // a new client, on a channel of its own
                fmt::print("channel {} connected\n", msg->channel());
                reply(chnls, msg);  // HelloResponse: accepted
                break;
            case tofu::MessageType::regular: {
                const std::string answer = fmt::format("echo: {}", msg->text());
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
        tofu::Group chnls = ampe.createGroup();  // the original's DestroyChannels chnls(ampe)

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
