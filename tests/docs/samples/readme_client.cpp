// The shortest complete tofu client: connects to HOST:PORT, sends "ping", prints the answer, says bye.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <tofu/tofu.hpp>

int main(int argc, char** argv) try {
    const std::string host = argc > 1 ? argv[1] : "127.0.0.1";
    const auto port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : tofu::DefaultPort);
    std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create();
    tofu::Ampe& ampe = reactor->ampe();
    tofu::DestroyChannels chnls(ampe);
    auto next = [&chnls] {  // the next message; a failure status (connect_failed...) throws
        tofu::MessagePtr m = chnls->waitReceive(5 * tofu::waitReceive_SEC_TIMEOUT);
        if (!m) {
            throw tofu::AmpeError(tofu::AmpeStatus::communication_failed, "no answer within 5 s");
        }
        tofu::raw_to_error(m->bhdr.status);
        return m;
    };

    tofu::MessagePtr hello = ampe.get(tofu::AllocationStrategy::always);
    tofu::TCPClientConfigurator(host, port).prepareRequest(*hello);
    const tofu::ChannelNumber server = chnls->enqueueToPeer(hello).channel_number;
    (void)next();  // the HelloResponse: connected

    tofu::MessagePtr req = ampe.get(tofu::AllocationStrategy::always);
    req->bhdr.proto.role = tofu::MessageRole::request;
    req->bhdr.channel_number = server;
    req->body.assign("ping");
    chnls->enqueueToPeer(req);
    std::printf("server says: %s\n", std::string(next()->body.view()).c_str());

    tofu::MessagePtr bye = ampe.get(tofu::AllocationStrategy::always);
    bye->bhdr.proto.mtype = tofu::MessageType::bye;
    bye->bhdr.proto.role = tofu::MessageRole::request;
    bye->bhdr.channel_number = server;
    chnls->enqueueToPeer(bye);
    (void)next();  // the ByeResponse: the channel closes
    return 0;
} catch (const tofu::AmpeError& e) {
    std::fprintf(stderr, "client: %s\n", e.what());
    return 1;
}
