// The shortest complete tofu server: answers every request on 127.0.0.1:PORT, serves one client, exits.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <tofu/tofu.hpp>

int main(int argc, char** argv) try {
    const auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : tofu::DefaultPort);
    std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create();  // the engine and its thread
    tofu::Ampe& ampe = reactor->ampe();
    tofu::DestroyChannels chnls(ampe);  // a channel group, destroyed at scope end

    tofu::MessagePtr welcome = ampe.get(tofu::AllocationStrategy::always);
    tofu::TCPServerConfigurator("127.0.0.1", port).prepareRequest(*welcome);
    chnls->enqueueToPeer(welcome);  // the engine owns it now; its answer comes back
    tofu::raw_to_error(chnls->waitReceive(tofu::waitReceive_INFINITE_TIMEOUT)->bhdr.status);
    std::printf("listening on %u\n", unsigned{port});
    std::fflush(stdout);

    for (;;) {
        tofu::MessagePtr msg = chnls->waitReceive(tofu::waitReceive_INFINITE_TIMEOUT);
        if (msg->bhdr.proto.origin == tofu::OriginFlag::engine) {  // news from the engine
            if (msg->isCloseNotice()) {
                return 0;  // our client's channel has closed
            }
            continue;  // pool_empty, or an answer of ours returned unsent
        }
        if (msg->bhdr.proto.role == tofu::MessageRole::request) {  // Hello, a request or Bye
            if (msg->bhdr.proto.mtype == tofu::MessageType::regular) {
                msg->body.assign("echo: " + std::string(msg->body.view()));
            }
            msg->bhdr.proto.role = tofu::MessageRole::response;  // the same message goes back
            chnls->enqueueToPeer(msg);
        }
    }
} catch (const tofu::AmpeError& e) {
    std::fprintf(stderr, "server: %s\n", e.what());
    return 1;
}
