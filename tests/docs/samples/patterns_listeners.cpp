// Sample for docs/guide/patterns.md: one function starts a listener on any transport.
#include <string>

#include "sample_support.hpp"

namespace {

// --8<-- [start:listener]
/// Starts a listener on any address (TCP or UDS) and returns its channel; throws AmpeError on failure.
tofu::ChannelNumber startListener(tofu::Ampe& ampe, tofu::ChannelGroup& chnls,
                                  const tofu::Configurator& where) {
    tofu::MessagePtr welcome = ampe.get(tofu::AllocationStrategy::always);
    where.prepareRequest(*welcome);  // the only transport-specific step, hidden in the configurator
    const tofu::ChannelNumber listener = chnls.enqueueToPeer(welcome).channel_number;

    for (;;) {
        tofu::MessagePtr msg = chnls.waitReceive(10 * tofu::waitReceive_SEC_TIMEOUT);
        if (!msg) {
            throw tofu::AmpeError(tofu::AmpeStatus::listen_failed, "no answer to the WelcomeRequest");
        }
        if (msg->bhdr.channel_number == listener) {
            tofu::raw_to_error(msg->bhdr.status);  // listen_failed, invalid_address, ...
            return listener;
        }
        // Another channel's message (a client of an older listener): a real server keeps it for later.
    }
}
// --8<-- [end:listener]

}  // namespace

int main() {
    try {
        std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create();
        tofu::Ampe& ampe = reactor->ampe();
        tofu::DestroyChannels chnls(ampe);
        const std::uint16_t port = tofu::findFreeTcpPort();
        const std::string path = tofu::tempUdsPath();

        // --8<-- [start:usage]
        const tofu::ChannelNumber tcp =
            startListener(ampe, *chnls, tofu::TCPServerConfigurator("127.0.0.1", port));
        const tofu::ChannelNumber uds = startListener(ampe, *chnls, tofu::UDSServerConfigurator(path));
        // HelloRequests from clients of either listener now arrive through the same chnls->waitReceive()
        // --8<-- [end:usage]

        fmt::print("tcp listener {}, uds listener {}\n", tcp, uds);
        return samples::expect(tcp != uds, "two listeners") ? 0 : 1;
    } catch (const tofu::AmpeError& e) {
        fmt::print(stderr, "patterns_listeners: {}\n", e.what());
        return 1;
    }
}
