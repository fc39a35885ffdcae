// Sample for docs/guide/message-flows.md: Welcome and Hello, each completed through waitReceive.
// One engine, a server group and a client group, over a Unix domain socket in the temp directory.
#include <fmt/format.h>

#include <chrono>
#include <string>
#include <tofu/tofu.hpp>

namespace {

tofu::MessagePtr receive(tofu::ChannelGroup& chnls) {
    tofu::MessagePtr msg = chnls.waitReceive(std::chrono::seconds(5));
    if (!msg) {
        throw tofu::AmpeError(tofu::AmpeStatus::communication_failed, "nothing within 5 s");
    }
    return msg;
}

}  // namespace

int main() {
    try {
        std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create();
        tofu::Ampe& ampe = reactor->ampe();
        tofu::Group server = ampe.createGroup();
        tofu::Group client = ampe.createGroup();
        const std::string path = tofu::tempUdsPath();

        // --8<-- [start:welcome]
        tofu::MessagePtr welcome = ampe.get(tofu::AllocationStrategy::always);
        tofu::UDSServerConfigurator(path).prepareRequest(*welcome);  // WelcomeRequest + ~listen_on
        const tofu::BinaryHeader listening = server->enqueueToPeer(welcome);
        // returned at once: listening.channel_number is the listener's channel; nothing is bound yet

        tofu::MessagePtr welcomed = receive(*server);  // the outcome, later, from the engine thread
        tofu::status_to_error(tofu::raw_to_status(welcomed->bhdr.status));  // throws unless success
        // shorthand: tofu::raw_to_error(*welcomed), which also says why (its ~error header)
        // --8<-- [end:welcome]

        // --8<-- [start:hello]
        tofu::MessagePtr hello = ampe.get(tofu::AllocationStrategy::always);
        tofu::UDSClientConfigurator(path).prepareRequest(*hello);  // HelloRequest + ~connect_to
        const tofu::BinaryHeader connecting = client->enqueueToPeer(hello);
        // connecting.channel_number: our channel to the server; connecting.message_id: the Hello's id
        // --8<-- [end:hello]

        // --8<-- [start:accept]
        tofu::MessagePtr helloRequest = receive(*server);  // the client's own HelloRequest, on a new channel
        // helloRequest->bhdr.channel_number is the server's channel to this client (not the listener's)
        helloRequest->bhdr.proto.role = tofu::MessageRole::response;  // accept: answer with the same message
        server->enqueueToPeer(helloRequest);  // shorthand: helloRequest->asResponse(), then the same call
        // --8<-- [end:accept]

        // --8<-- [start:connected]
        tofu::MessagePtr helloResponse = receive(*client);
        const bool connected = helloResponse->bhdr.proto.origin == tofu::OriginFlag::application &&
                               helloResponse->bhdr.channel_number == connecting.channel_number &&
                               helloResponse->bhdr.message_id == connecting.message_id;
        // shorthand: !helloResponse->fromEngine() && helloResponse->channel() == ... && ->id() == ...
        // --8<-- [end:connected]

        fmt::print("listener {}, client channel {}, connected: {}\n", listening.channel_number,
                   connecting.channel_number, connected);
        return connected ? 0 : 1;
    } catch (const tofu::AmpeError& e) {
        fmt::print(stderr, "message_flows_handshake: {}\n", e.what());
        return 1;
    }
}
