// The shortest complete tofu server: answers every request on 127.0.0.1:PORT, serves one client, exits.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <tofu/tofu.hpp>

int main(int argc, char** argv) try {
    const auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : tofu::DefaultPort);
    std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create();  // the engine and its thread
    tofu::Ampe& ampe = reactor->ampe();
    tofu::Group chnls = ampe.createGroup();  // a channel group, destroyed at scope end

    tofu::MessagePtr welcome = ampe.get(tofu::AllocationStrategy::always);
    tofu::TCPServerConfigurator("127.0.0.1", port).prepareRequest(*welcome);
    chnls->enqueueToPeer(welcome);  // the engine owns it now; its answer comes back
    tofu::raw_to_error(*chnls->waitReceive(tofu::waitReceive_FOREVER));  // throws unless listening
    std::printf("listening on %u\n", unsigned{port});
    std::fflush(stdout);

    for (;;) {
        tofu::MessagePtr msg = chnls->waitReceive(tofu::waitReceive_FOREVER);
        if (msg->isCloseNotice()) {
            return 0;  // our client's channel has closed
        }
        if (msg->fromEngine() || msg->role() != tofu::MessageRole::request) {
            continue;  // pool_empty, or an answer of ours returned unsent
        }
        if (msg->type() == tofu::MessageType::regular) {
            msg->body.assign("echo: " + std::string(msg->text()));
        }
        msg->asResponse();  // Hello, a request or Bye: the same message goes back
        chnls->enqueueToPeer(msg);
    }
} catch (const tofu::AmpeError& e) {
    std::fprintf(stderr, "server: %s\n", e.what());
    return 1;
}
