// The shortest complete tofu client: connects to HOST:PORT, sends "ping", prints the answer, says bye.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <tofu/tofu.hpp>

int main(int argc, char** argv) try {
    const std::string host = argc > 1 ? argv[1] : "127.0.0.1";
    const auto port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : tofu::DefaultPort);
    std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create();
    tofu::Ampe& ampe = reactor->ampe();
    tofu::Group chnls = ampe.createGroup();
    auto next = [&chnls] {  // the next message; a failure status (connect_failed...) throws
        tofu::MessagePtr m = chnls->waitReceive(std::chrono::seconds(5));
        if (!m) {
            throw tofu::AmpeError(tofu::AmpeStatus::communication_failed, "no answer within 5 s");
        }
        tofu::raw_to_error(*m);
        return m;
    };

    tofu::MessagePtr hello = ampe.get(tofu::AllocationStrategy::always);
    tofu::TCPClientConfigurator(host, port).prepareRequest(*hello);
    const tofu::ChannelNumber server = chnls->enqueueToPeer(hello).channel_number;
    (void)next();  // the HelloResponse: connected

    chnls->enqueueToPeer(ampe.request(server, "ping"));
    std::printf("server says: %s\n", std::string(next()->text()).c_str());

    chnls->enqueueToPeer(ampe.byeRequest(server));
    (void)next();  // the ByeResponse: the channel closes
    return 0;
} catch (const tofu::AmpeError& e) {
    std::fprintf(stderr, "client: %s\n", e.what());
    return 1;
}
