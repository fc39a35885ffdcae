// Sample for docs/guide/message-flows.md: a Hello nobody answers comes back from the engine.
#include <fmt/format.h>

#include <tofu/tofu.hpp>

int main() {
    try {
        std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create();
        tofu::Ampe& ampe = reactor->ampe();
        tofu::Group chnls = ampe.createGroup();
        const std::uint16_t port = tofu::findFreeTcpPort();  // free a moment ago: nobody listens there

        // --8<-- [start:failed-hello]
        tofu::MessagePtr hello = ampe.get(tofu::AllocationStrategy::always);
        tofu::TCPClientConfigurator("127.0.0.1", port).prepareRequest(*hello);
        const tofu::BinaryHeader sent = chnls->enqueueToPeer(hello);  // succeeds: nothing was tried yet

        tofu::MessagePtr back = chnls->waitReceive(5 * tofu::waitReceive_SEC_TIMEOUT);  // or (5s)
        if (back && back->isReturned()) {
            // Our own HelloRequest, returned as a response (origin engine) with the reason:
            // connect_failed, peer_disconnected (refused at once), invalid_address, uds_path_not_found
            // back->status() is the original's tofu::raw_to_status(back->bhdr.status)
            fmt::print("connect to port {} failed: {}\n", port, back->status());
        }

        tofu::MessagePtr closed = chnls->waitReceive(5 * tofu::waitReceive_SEC_TIMEOUT);
        // then the channel's last word, its close notice: closed->isCloseNotice(), same channel
        // --8<-- [end:failed-hello]

        const bool ok = back && back->isReturned() && back->fromEngine() &&
                        back->channel() == sent.channel_number && closed && closed->isCloseNotice() &&
                        closed->channel() == sent.channel_number &&
                        closed->status() == tofu::AmpeStatus::channel_closed;
        return ok ? 0 : 1;
    } catch (const tofu::AmpeError& e) {
        fmt::print(stderr, "message_flows_failure: {}\n", e.what());
        return 1;
    }
}
