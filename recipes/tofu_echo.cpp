// tofu-echo: a MultiHomed echo server.
//   tofu-echo --listen tcp://HOST:PORT --listen uds://PATH ... [--stats SECONDS] [--verbose]
// Answers requests with responses (same id, headers and body), echoes signals, answers HelloRequest and
// ByeRequest, prints one line per connect and disconnect, and exits 0 on SIGINT/SIGTERM after closing
// its listeners (a UDS listener's file is removed).
// Built from the recipes: MultiHomed (one thread, one waitReceive loop for every listener and client)
// running an EchoService, wrapped to print what happens.
#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <string>
#include <vector>

#include "multihomed.hpp"
#include "observe.hpp"
#include "services.hpp"
#include "stop_signal.hpp"
#include "utf8_args.hpp"

namespace {

constexpr const char* Usage =
    "usage: tofu-echo --listen URL [--listen URL]... [--stats SECONDS] [--verbose]\n"
    "  URL: tcp://HOST:PORT  HOST an IPv4 address, [IPv6] in brackets, or empty for every interface\n"
    "       uds://PATH       a Unix domain socket (its file is removed on exit)\n"
    "Answers every request with a response carrying the same message id, headers and body, echoes\n"
    "signals, answers Hello and Bye requests. Prints a line per connect and disconnect.\n"
    "--stats SECONDS: prints the engine's counters every SECONDS on one line (\"stats: ...\").\n"
    "SIGUSR1 (not on Windows): prints the counters and one line per open channel (\"channel: ...\").\n"
    "--verbose: prints the engine's log on stderr (failed listeners, invalid frames, dead peers...).\n"
    "Stops on SIGINT or SIGTERM (Windows: Ctrl-C, Ctrl-Break): closes the listeners and exits 0.\n"
    "Exit status: 0 stopped by a signal, 1 a listener failed, 2 bad arguments.\n";

// After an argument error: one line naming --help.
constexpr const char* TryHelp = "Try 'tofu-echo --help' for usage.\n";

// EchoService, plus a line for every client that comes (its HelloRequest) and goes (channel_closed).
class LoggingEcho final : public recipes::Services {
  public:
    void start(tofu::Ampe& ampe, tofu::ChannelGroup& sendTo) override { echo_.start(ampe, sendTo); }
    void stop() override { echo_.stop(); }

    bool onMessage(tofu::MessagePtr& msg) override {
        if (msg) {
            const tofu::BinaryHeader& bh = msg->bhdr;
            if (bh.proto.mtype == tofu::MessageType::hello && bh.proto.role == tofu::MessageRole::request) {
                fmt::print("connected channel {} ({})\n", bh.channel_number,
                           msg->thdrs.find(tofu::ConnectToHeader).value_or("?"));
                std::fflush(stdout);
            } else if (msg->isCloseNotice()) {
                fmt::print("disconnected channel {}\n", bh.channel_number);
                std::fflush(stdout);
            }
        }
        return echo_.onMessage(msg);
    }

  private:
    recipes::EchoService echo_{recipes::EchoService::Unlimited};  // a server keeps serving
};

}  // namespace

int main(int argc, char** argv) {
    const recipes::Utf8Args utf8(argc, argv);  // Windows: UTF-8, not the ANSI code page
    std::vector<tofu::Configurator> addresses;
    std::vector<std::string> names;
    unsigned statsSeconds = 0;
    tofu::Options options = tofu::DefaultOptions;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            fmt::print("{}", Usage);
            return 0;
        }
        if (arg == "--listen") {
            if (i + 1 >= argc) {
                fmt::print(stderr, "tofu-echo: --listen needs a URL\n{}", TryHelp);
                return 2;
            }
            std::string why;
            const tofu::Configurator cfg = tofu::parseUrl(argv[++i], tofu::UrlRole::listen, why);
            if (cfg.isWrong()) {
                fmt::print(stderr, "tofu-echo: bad URL '{}': {}\n{}", argv[i], why, TryHelp);
                return 2;
            }
            addresses.push_back(cfg);
            names.emplace_back(argv[i]);
            continue;
        }
        if (arg == "--verbose") {
            options.log = recipes::logToStderr;
            continue;
        }
        if (arg == "--stats") {
            const std::string_view v = i + 1 < argc ? argv[++i] : "";
            const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), statsSeconds);
            if (v.empty() || ec != std::errc{} || p != v.data() + v.size() || statsSeconds == 0) {
                fmt::print(stderr, "tofu-echo: --stats needs a number of seconds, not '{}'\n{}", v, TryHelp);
                return 2;
            }
            continue;
        }
        fmt::print(stderr, "tofu-echo: unexpected argument '{}'\n{}", arg, TryHelp);
        return 2;
    }
    if (addresses.empty()) {
        fmt::print(stderr, "tofu-echo: give at least one --listen URL\n{}", TryHelp);
        return 2;
    }

    // Before any thread starts (the reactor's, the server's): on POSIX they inherit its signal mask.
    // SIGUSR1 is not a stop: it prints the counters and the channels.
    recipes::StopSignal stopSignal(true);

    try {
        std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create(options);
        LoggingEcho service;
        std::unique_ptr<recipes::MultiHomed> server;
        try {
            server = recipes::MultiHomed::run(reactor->ampe(), addresses, service);
        } catch (const tofu::AmpeError& e) {
            fmt::print(stderr, "tofu-echo: cannot listen: {}\n", e.what());
            return 1;
        }
        for (const std::string& name : names) {
            fmt::print("listening on {}\n", name);
        }
        std::fflush(stdout);

        recipes::StatsTicker ticker(*reactor, std::chrono::seconds(statsSeconds), stdout);
        const int sig = stopSignal.wait([&reactor] { recipes::printStatsAndChannels(*reactor, stdout); });
        server->stop();  // closes the listeners (UDS files removed) and every client
        fmt::print("stopped by signal {}\n", sig);
    } catch (const tofu::AmpeError& e) {
        fmt::print(stderr, "tofu-echo: {}\n", e.what());
        return 1;
    }
    return 0;
}
