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
        tofu::BinaryHeader& bh = msg->bhdr;
        if (bh.proto.origin == tofu::OriginFlag::engine) {
            if (msg->isCloseNotice()) {
                clients_.erase(bh.channel_number);  // gone, however it ended
            }
            return;  // our own messages returned (a refusing ByeSignal...), pool_empty: nothing to do
        }
        if (bh.proto.role != tofu::MessageRole::request) {
            return;
        }
        switch (bh.proto.mtype) {
            case tofu::MessageType::hello:
                if (clients_.size() >= max_) {
                    bh.proto.mtype = tofu::MessageType::bye;  // refuse: close the new channel at once
                    bh.proto.role = tofu::MessageRole::signal;
                    bh.proto.oob = tofu::Oob::on;
                } else {
                    clients_[bh.channel_number] = Client{std::chrono::steady_clock::now(), 0};
                    bh.proto.role = tofu::MessageRole::response;  // accept
                }
                break;
            case tofu::MessageType::regular:
                if (auto it = clients_.find(bh.channel_number); it != clients_.end()) {
                    ++it->second.requests;
                }
                bh.proto.role = tofu::MessageRole::response;
                break;
            case tofu::MessageType::bye:
                bh.proto.role = tofu::MessageRole::response;  // let it go; channel_closed follows
                break;
            default:
                return;
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
        tofu::DestroyChannels server(ampe);
        tofu::DestroyChannels alice(ampe);
        tofu::DestroyChannels bob(ampe);
        const std::string path = tofu::tempUdsPath();
        Clients clients(1);

        tofu::MessagePtr welcome = ampe.get(tofu::AllocationStrategy::always);
        tofu::UDSServerConfigurator(path).prepareRequest(*welcome);
        server->enqueueToPeer(welcome);
        tofu::raw_to_error(samples::receive(*server)->bhdr.status);

        // Alice is accepted.
        const tofu::ChannelNumber a = sayHello(ampe, *alice, path);
        tofu::MessagePtr msg = samples::receive(*server);
        clients.onMessage(*server, msg);
        bool ok = samples::expect(samples::receive(*alice)->bhdr.proto.role == tofu::MessageRole::response,
                                  "alice accepted");

        // Bob is refused: his channel just closes.
        const tofu::ChannelNumber b = sayHello(ampe, *bob, path);
        msg = samples::receive(*server);
        clients.onMessage(*server, msg);
        for (;;) {
            tofu::MessagePtr m = samples::receive(*bob);
            if (m->isCloseNotice()) {
                ok = samples::expect(m->bhdr.channel_number == b, "bob's channel closed") && ok;
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
        tofu::MessagePtr req = ampe.get(tofu::AllocationStrategy::always);
        req->bhdr.proto.role = tofu::MessageRole::request;
        req->bhdr.channel_number = a;
        alice->enqueueToPeer(req);
        msg = samples::receive(*server);
        clients.onMessage(*server, msg);
        ok = samples::expect(samples::receive(*alice)->bhdr.proto.role == tofu::MessageRole::response,
                             "answer") &&
             ok;

        tofu::MessagePtr bye = ampe.get(tofu::AllocationStrategy::always);
        bye->bhdr.proto.mtype = tofu::MessageType::bye;
        bye->bhdr.proto.role = tofu::MessageRole::request;
        bye->bhdr.channel_number = a;
        alice->enqueueToPeer(bye);
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
