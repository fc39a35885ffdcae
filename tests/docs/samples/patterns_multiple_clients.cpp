// Sample for docs/guide/patterns.md: a server that keeps track of its clients by channel number.
#include <chrono>
#include <string>
#include <unordered_map>

#include "sample_support.hpp"

namespace {

// --8<-- [start:clients]
class Clients {
  public:
    explicit Clients(std::size_t maxClients) : max_(maxClients) {}

    /// One received message; answers through chnls. Whatever msg still holds afterwards is the caller's.
    void onMessage(tofu::ChannelGroup& chnls, tofu::MessagePtr& msg) {
        if (msg->fromEngine()) {
            if (msg->isCloseNotice()) {
                clients_.erase(msg->channel());  // gone, however it ended
            }
            return;  // our own messages returned (a refusing ByeSignal...), pool_empty: nothing to do
        }
        if (msg->role() != tofu::MessageRole::request) {
            return;
        }
        if (msg->type() == tofu::MessageType::hello && clients_.size() >= max_) {
            msg->asByeSignal(msg->channel());  // refuse: a ByeSignal with oob closes the new channel at once
        } else {
            if (msg->type() == tofu::MessageType::hello) {
                clients_[msg->channel()] = Client{std::chrono::steady_clock::now(), 0};  // accepted
            } else if (auto it = clients_.find(msg->channel()); it != clients_.end()) {
                ++it->second.requests;
            }
            msg->asResponse();  // HelloResponse (accept), response, or ByeResponse (let it go)
        }
        chnls.enqueueToPeer(msg);
    }

    [[nodiscard]] std::size_t count() const noexcept { return clients_.size(); }

  private:
    struct Client {
        std::chrono::steady_clock::time_point since;
        std::uint64_t requests = 0;
    };
    std::size_t max_;
    std::unordered_map<tofu::ChannelNumber, Client> clients_;
};
// --8<-- [end:clients]

tofu::ChannelNumber sayHello(tofu::Ampe& ampe, tofu::ChannelGroup& chnls, const std::string& path) {
    tofu::MessagePtr hello = ampe.get(tofu::AllocationStrategy::always);
    tofu::UDSClientConfigurator(path).prepareRequest(*hello);
    return chnls.enqueueToPeer(hello).channel_number;
}

}  // namespace

int main() {
    try {
        std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create();
        tofu::Ampe& ampe = reactor->ampe();
        tofu::Group server = ampe.createGroup();
        tofu::Group alice = ampe.createGroup();
        tofu::Group bob = ampe.createGroup();
        const std::string path = tofu::tempUdsPath();
        Clients clients(1);

        tofu::MessagePtr welcome = ampe.get(tofu::AllocationStrategy::always);
        tofu::UDSServerConfigurator(path).prepareRequest(*welcome);
        server->enqueueToPeer(welcome);
        tofu::raw_to_error(*samples::receive(*server));

        // Alice is accepted.
        const tofu::ChannelNumber a = sayHello(ampe, *alice, path);
        tofu::MessagePtr msg = samples::receive(*server);
        clients.onMessage(*server, msg);
        bool ok = samples::expect(samples::receive(*alice)->is(tofu::ValidCombination::HelloResponse),
                                  "alice accepted");

        // Bob is refused: his channel just closes.
        const tofu::ChannelNumber b = sayHello(ampe, *bob, path);
        msg = samples::receive(*server);
        clients.onMessage(*server, msg);
        for (;;) {
            tofu::MessagePtr m = samples::receive(*bob);
            if (m->isCloseNotice()) {
                ok = samples::expect(m->channel() == b, "bob's channel closed") && ok;
                break;
            }
        }
        // On the server: the refusing ByeSignal comes back, then the close notice.
        for (int i = 0; i < 2; ++i) {
            msg = samples::receive(*server);
            clients.onMessage(*server, msg);
        }
        ok = samples::expect(clients.count() == 1, "one client") && ok;

        // Alice asks once, then says bye.
        alice->enqueueToPeer(ampe.request(a));
        msg = samples::receive(*server);
        clients.onMessage(*server, msg);
        ok = samples::expect(samples::receive(*alice)->is(tofu::ValidCombination::AppResponse), "answer") &&
             ok;

        alice->enqueueToPeer(ampe.byeRequest(a));
        while (clients.count() != 0) {  // the ByeRequest, then the close notice
            msg = samples::receive(*server);
            clients.onMessage(*server, msg);
        }
        fmt::print("alice came and went, bob was refused\n");
        return ok ? 0 : 1;
    } catch (const tofu::AmpeError& e) {
        fmt::print(stderr, "patterns_multiple_clients: {}\n", e.what());
        return 1;
    }
}
