// Sample for docs/guide/advanced-topics.md: several groups, several listeners, and a clean shutdown.
#include <chrono>
#include <set>
#include <string>

#include "sample_support.hpp"

namespace {

// --8<-- [start:shutdown]
/// Closes every channel at once (ByeSignal, oob) and waits until the engine has confirmed each close.
void closeAll(tofu::Ampe& ampe, tofu::ChannelGroup& chnls, std::set<tofu::ChannelNumber> open) {
    for (tofu::ChannelNumber ch : open) {
        chnls.enqueueToPeer(ampe.byeSignal(ch));  // ByeSignal, oob
    }
    while (!open.empty()) {
        tofu::MessagePtr msg = chnls.waitReceive(std::chrono::seconds(5));
        if (!msg) {
            break;  // give up waiting: destroying the group closes whatever is left
        }
        if (msg->isCloseNotice()) {  // not our ByeSignal coming back first: its header is the same
            open.erase(msg->channel());
        }
    }
}
// --8<-- [end:shutdown]

}  // namespace

int main() {
    try {
        std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create();
        tofu::Ampe& ampe = reactor->ampe();
        const std::uint16_t port = tofu::findFreeTcpPort();
        const std::string path = tofu::tempUdsPath();

        // --8<-- [start:groups]
        tofu::Group service = ampe.createGroup();  // the main protocol
        tofu::Group admin = ampe.createGroup();    // monitoring, on its own thread if you like
        // Each group has its own queue: a channel's messages go to the group that opened it.
        // --8<-- [end:groups]

        // --8<-- [start:listeners]
        tofu::MessagePtr tcp = ampe.get(tofu::AllocationStrategy::always);
        tofu::TCPServerConfigurator("127.0.0.1", port).prepareRequest(*tcp);
        tofu::MessagePtr uds = ampe.get(tofu::AllocationStrategy::always);
        tofu::UDSServerConfigurator(path).prepareRequest(*uds);

        std::set<tofu::ChannelNumber> listeners;
        listeners.insert(service->enqueueToPeer(tcp).channel_number);  // both requests are on their way...
        listeners.insert(service->enqueueToPeer(uds).channel_number);
        for (int i = 0; i < 2; ++i) {  // ...and both answers come back, in either order
            tofu::MessagePtr answer = samples::receive(*service);
            tofu::raw_to_error(*answer);  // what failed, and why
        }
        // --8<-- [end:listeners]

        tofu::MessagePtr adminHello = ampe.get(tofu::AllocationStrategy::always);
        tofu::UDSClientConfigurator(path).prepareRequest(*adminHello);
        const tofu::ChannelNumber adminCh = admin->enqueueToPeer(adminHello).channel_number;
        tofu::MessagePtr helloOnService =
            samples::receive(*service);  // the accepted channel belongs to service
        bool ok = samples::expect(helloOnService->is(tofu::ValidCombination::HelloRequest), "hello");
        helloOnService->asResponse();
        service->enqueueToPeer(helloOnService);
        ok = samples::expect(samples::receive(*admin)->channel() == adminCh, "admin connected") && ok;

        closeAll(ampe, *service, listeners);
        fmt::print("two groups, two listeners, closed\n");
        return ok ? 0 : 1;
    } catch (const tofu::AmpeError& e) {
        fmt::print(stderr, "advanced_groups: {}\n", e.what());
        return 1;
    }
}
