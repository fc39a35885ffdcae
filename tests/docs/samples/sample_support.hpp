// Helpers shared by the runnable samples of docs/guide (not shown in the guide themselves).
#pragma once

#include <fmt/format.h>

#include <string_view>
#include <tofu/tofu.hpp>

namespace samples {

/// The next message of the group; throws when nothing arrives within `timeout` (5 s by default).
inline tofu::MessagePtr receive(tofu::ChannelGroup& chnls,
                                std::uint64_t timeout = 5 * tofu::waitReceive_SEC_TIMEOUT) {
    tofu::MessagePtr msg = chnls.waitReceive(timeout);
    if (!msg) {
        throw tofu::AmpeError(tofu::AmpeStatus::communication_failed, "nothing received in time");
    }
    return msg;
}

/// Both ends of one connection: the client's channel and the server's channel for that client.
struct Link {
    tofu::ChannelNumber client = 0;
    tofu::ChannelNumber server = 0;
};

/// Listens with `server` on srv, connects `client` to cli and accepts: Welcome, Hello, HelloResponse.
inline Link connect(tofu::Ampe& ampe, tofu::ChannelGroup& server, tofu::ChannelGroup& client,
                    const tofu::Configurator& srv, const tofu::Configurator& cli) {
    tofu::MessagePtr welcome = ampe.get(tofu::AllocationStrategy::always);
    srv.prepareRequest(*welcome);
    server.enqueueToPeer(welcome);
    tofu::raw_to_error(receive(server)->bhdr.status);

    tofu::MessagePtr hello = ampe.get(tofu::AllocationStrategy::always);
    cli.prepareRequest(*hello);
    Link link;
    link.client = client.enqueueToPeer(hello).channel_number;
    tofu::MessagePtr req = receive(server);
    tofu::raw_to_error(req->bhdr.status);
    link.server = req->bhdr.channel_number;
    req->bhdr.proto.role = tofu::MessageRole::response;
    server.enqueueToPeer(req);
    tofu::MessagePtr resp = receive(client);
    if (resp->bhdr.proto.origin == tofu::OriginFlag::engine) {
        tofu::raw_to_error(resp->bhdr.status);
    }
    return link;
}

/// Prints what failed; returns ok.
inline bool expect(bool ok, std::string_view what) {
    if (!ok) {
        fmt::print(stderr, "FAILED: {}\n", what);
    }
    return ok;
}

}  // namespace samples
