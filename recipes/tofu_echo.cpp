// tofu-echo: a MultiHomed echo server.
//   tofu-echo --listen tcp://HOST:PORT --listen uds://PATH ...
// Answers requests with responses (same id and body), echoes signals, answers Hello and Bye requests,
// prints a line per connect/disconnect, and exits 0 on SIGINT/SIGTERM after closing its listeners.
#include <fmt/format.h>
#include <signal.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "url.hpp"

namespace {

void usage(std::FILE* out) {
    fmt::print(out,
               "usage: tofu-echo --listen URL [--listen URL]...\n"
               "  URL: tcp://HOST:PORT (HOST empty for all interfaces, [v6] in brackets) or uds://PATH\n"
               "Echoes every request and signal back to its sender until SIGINT or SIGTERM.\n");
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<tofu::Configurator> listen;
    std::vector<std::string> names;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--help" || a == "-h") {
            usage(stdout);
            return 0;
        }
        if (a == "--listen" && i + 1 < argc) {
            std::optional<tofu::Configurator> cfg = recipes::parseUrl(argv[++i], true);
            if (!cfg) {
                fmt::print(stderr, "tofu-echo: bad URL '{}'\n", argv[i]);
                return 2;
            }
            listen.push_back(*cfg);
            names.emplace_back(argv[i]);
            continue;
        }
        fmt::print(stderr, "tofu-echo: unexpected argument '{}'\n", a);
        usage(stderr);
        return 2;
    }
    if (listen.empty()) {
        usage(stderr);
        return 2;
    }

    // Signals are taken synchronously by the main thread; every other thread blocks them.
    sigset_t stopSignals;
    sigemptyset(&stopSignals);
    sigaddset(&stopSignals, SIGINT);
    sigaddset(&stopSignals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);

    try {
        std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create();
        tofu::Ampe& ampe = reactor->ampe();
        tofu::DestroyChannels chnls(ampe);
        std::vector<tofu::ChannelNumber> listeners;
        for (std::size_t i = 0; i < listen.size(); ++i) {
            tofu::MessagePtr welcome = ampe.get(tofu::AllocationStrategy::always);
            listen[i].prepareRequest(*welcome);
            chnls->enqueueToPeer(welcome);
            tofu::MessagePtr resp = chnls->waitReceive(10 * tofu::waitReceive_SEC_TIMEOUT);
            if (!resp || resp->bhdr.status != 0) {
                fmt::print(stderr, "tofu-echo: cannot listen on {}: {}\n", names[i],
                           resp ? tofu::statusName(tofu::raw_to_status(resp->bhdr.status)) : "timeout");
                return 1;
            }
            listeners.push_back(resp->bhdr.channel_number);
            fmt::print("listening on {}\n", names[i]);
        }
        std::fflush(stdout);

        std::atomic<bool> stopping{false};
        std::thread server([&] {
            for (;;) {
                tofu::MessagePtr msg;
                try {
                    msg = chnls->waitReceive(tofu::waitReceive_INFINITE_TIMEOUT);
                } catch (const tofu::AmpeError&) {
                    return;
                }
                if (!msg) {
                    continue;
                }
                const tofu::AmpeStatus st = tofu::raw_to_status(msg->bhdr.status);
                if (st == tofu::AmpeStatus::receiver_update && stopping) {
                    return;
                }
                if (msg->bhdr.proto.origin == tofu::OriginFlag::engine) {
                    if (st == tofu::AmpeStatus::channel_closed &&
                        msg->bhdr.proto.mtype == tofu::MessageType::regular) {
                        fmt::print("disconnected channel {}\n", msg->bhdr.channel_number);
                        std::fflush(stdout);
                    } else if (st == tofu::AmpeStatus::pool_empty) {
                        tofu::MessagePtr fresh = tofu::Message::create(ampe.getAllocator());
                        ampe.put(fresh);
                    }
                    continue;
                }
                if (msg->bhdr.proto.mtype == tofu::MessageType::hello) {
                    fmt::print("connected channel {} ({})\n", msg->bhdr.channel_number,
                               msg->thdrs.find(tofu::ConnectToHeader).value_or("?"));
                    std::fflush(stdout);
                }
                if (msg->bhdr.proto.role == tofu::MessageRole::request) {
                    msg->bhdr.proto.role = tofu::MessageRole::response;
                } else if (msg->bhdr.proto.role != tofu::MessageRole::signal ||
                           msg->bhdr.proto.mtype == tofu::MessageType::bye) {
                    continue;  // responses and bye signals are not echoed
                }
                try {
                    chnls->enqueueToPeer(msg);
                } catch (const tofu::AmpeError&) {
                }
            }
        });

        int sig = 0;
        sigwait(&stopSignals, &sig);
        stopping = true;
        chnls->updateReceiver();
        server.join();
        fmt::print("stopping on signal {}\n", sig);
    } catch (const tofu::AmpeError& e) {
        fmt::print(stderr, "tofu-echo: {}\n", e.what());
        return 1;
    }
    return 0;  // the group's destruction closed the listeners and removed UDS files
}
