// tofucat: talk to any tofu peer from a shell (in the spirit of NNG's nngcat).
//   tofucat --connect URL (--request TEXT | --signal TEXT) [--count N] [--header N:V]... [--timeout SEC]
//   tofucat --listen URL [--echo]
//   either with [--stats] (the engine's counters on stderr at exit) and [--verbose] (its log on stderr)
// A client is one engine and one channel group: Hello, the requests (or signals), Bye. A listener prints
// everything it receives on a thread of its own until SIGINT/SIGTERM.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <thread>
#include <vector>

#include <tofu/tofu.hpp>

#include "observe.hpp"
#include "stop_signal.hpp"
#include "utf8_args.hpp"

namespace {

constexpr const char* Usage =
    "usage:\n"
    "  tofucat --connect URL (--request TEXT | --signal TEXT) [--count N] [--header NAME:VALUE]...\n"
    "          [--timeout SEC]\n"
    "      Says Hello (HelloRequest), then sends TEXT N times (default 1) as requests and prints the\n"
    "      body of each response on its own line, or as signals (printing the body of every signal the\n"
    "      peer sends, e.g. the echoes of tofu-echo); then says Bye (ByeRequest) and waits for the\n"
    "      ByeResponse. Every --header goes with each message. --timeout: longest wait for any\n"
    "      answer (default 10 s).\n"
    "  tofucat --listen URL [--echo]\n"
    "      Prints every message received, one line each: channel, type/role/origin, message id, lengths,\n"
    "      status, [headers] and the body (as text, or hex when it holds control bytes). Answers Hello\n"
    "      and Bye requests; with --echo also answers requests with the same message as response and\n"
    "      echoes signals, like tofu-echo. Stops on SIGINT/SIGTERM with exit status 0.\n"
    "  Either form: --stats prints the engine's counters on stderr at exit (\"stats: ...\"), --verbose\n"
    "      its log (failed listeners, invalid frames, dead peers...) on stderr as it happens.\n"
    "  URL: tcp://HOST:PORT (HOST a name, an IPv4 address or an [IPv6] address in brackets; empty with\n"
    "       --listen: every interface) or uds://PATH\n"
    "Exit status: 0 done, 1 failed (the reason on one line: refused, timeout, closed), 2 bad arguments.\n";

struct Args {
    std::string url;
    bool listen = false;
    bool echo = false;
    bool signal = false;
    bool stats = false;
    bool verbose = false;
    std::string text;
    bool haveText = false;
    unsigned count = 1;
    unsigned timeoutSec = 10;
    std::vector<std::pair<std::string, std::string>> headers;
};

// A one-line reason to stop with exit status 1.
struct Failure {
    std::string reason;
};

[[noreturn]] void bad(const std::string& why) {
    fmt::print(stderr, "tofucat: {}\nTry 'tofucat --help' for usage.\n", why);
    std::exit(2);
}

unsigned number(std::string_view s, const char* what) {
    unsigned v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || p != s.data() + s.size()) {
        bad(fmt::format("{} must be a number, not '{}'", what, s));
    }
    return v;
}

Args parse(int argc, char** argv) {
    Args a;
    bool connect = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view k = argv[i];
        auto value = [&]() -> std::string_view {
            if (i + 1 >= argc) {
                bad(fmt::format("{} needs a value", k));
            }
            return argv[++i];
        };
        if (k == "--help" || k == "-h") {
            fmt::print("{}", Usage);
            std::exit(0);
        } else if (k == "--connect") {
            a.url = value();
            connect = true;
        } else if (k == "--listen") {
            a.url = value();
            a.listen = true;
        } else if (k == "--echo") {
            a.echo = true;
        } else if (k == "--stats") {
            a.stats = true;
        } else if (k == "--verbose") {
            a.verbose = true;
        } else if (k == "--request" || k == "--signal") {
            a.signal = k == "--signal";
            a.text = value();
            a.haveText = true;
        } else if (k == "--count") {
            a.count = number(value(), "--count");
        } else if (k == "--timeout") {
            a.timeoutSec = number(value(), "--timeout");
        } else if (k == "--header") {
            const std::string_view h = value();
            const std::size_t colon = h.find(':');
            if (colon == std::string_view::npos || colon == 0 || colon + 1 == h.size()) {
                bad(fmt::format("--header wants NAME:VALUE, not '{}'", h));
            }
            a.headers.emplace_back(h.substr(0, colon), h.substr(colon + 1));
        } else {
            bad(fmt::format("unexpected argument '{}'", k));
        }
    }
    if (connect == a.listen) {
        bad("give exactly one of --connect and --listen");
    }
    if (connect && !a.haveText) {
        bad("--connect needs --request TEXT or --signal TEXT");
    }
    if (a.timeoutSec == 0) {
        bad("--timeout must be at least 1 second");
    }
    if (a.echo && !a.listen) {
        bad("--echo goes with --listen");
    }
    if (a.listen && a.haveText) {
        bad("--request/--signal go with --connect");
    }
    return a;
}

// The engine for a run, with the log on stderr when asked for.
std::unique_ptr<tofu::Reactor> makeReactor(const Args& a) {
    tofu::Options o = tofu::DefaultOptions;
    if (a.verbose) {
        o.log = recipes::logToStderr;
    }
    return tofu::Reactor::Create(o);
}

// --stats: the counters on stderr when the run ends, however it ends.
class StatsAtExit {
  public:
    StatsAtExit(const tofu::Reactor& reactor, bool on) : reactor_(reactor), on_(on) {}
    StatsAtExit(const StatsAtExit&) = delete;
    StatsAtExit& operator=(const StatsAtExit&) = delete;
    ~StatsAtExit() {
        if (on_) {
            recipes::printStats(reactor_, stderr);
        }
    }

  private:
    const tofu::Reactor& reactor_;
    bool on_;
};

std::string printable(std::string_view body) {
    // Text unless it holds control bytes (UTF-8 passes as text).
    const bool text = std::all_of(body.begin(), body.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u >= 0x20 ? u != 0x7F : c == '\t';
    });
    if (text) {
        return std::string(body);
    }
    std::string hex = "hex:";
    for (unsigned char c : body) {
        hex += fmt::format(" {:02x}", c);
    }
    return hex;
}

int runClient(const Args& a, const tofu::Configurator& cfg) {
    std::unique_ptr<tofu::Reactor> reactor = makeReactor(a);
    const StatsAtExit stats(*reactor, a.stats);
    tofu::Ampe& ampe = reactor->ampe();
    tofu::Group chnls = ampe.createGroup();
    // The next message from the peer. Signals (an echo server echoes ours) are printed on the way: they
    // may come at any time, before the response we wait for or before the ByeResponse.
    auto next = [&]() -> tofu::MessagePtr {
        for (;;) {
            tofu::MessagePtr m = chnls->waitReceive(std::chrono::seconds(a.timeoutSec));
            if (!m) {
                throw Failure{fmt::format("timeout: nothing received in {} s", a.timeoutSec)};
            }
            if (m->fromEngine()) {
                if (m->status() == tofu::AmpeStatus::pool_empty) {
                    continue;
                }
                // The Hello back from the engine: no connection. Anything else: the channel closed.
                const bool refused = m->type() == tofu::MessageType::hello;
                const std::optional<std::string_view> why = m->thdrs.find(tofu::ErrorHeader);
                throw Failure{fmt::format("{}: {}{}{}", refused ? "refused" : "closed", m->status(),
                                          why ? " — " : "", why ? *why : std::string_view())};
            }
            if (m->is(tofu::ValidCombination::AppSignal)) {
                fmt::print("{}\n", printable(m->text()));
                std::fflush(stdout);
                continue;
            }
            return m;
        }
    };

    tofu::MessagePtr hello = ampe.get(tofu::AllocationStrategy::always);
    cfg.prepareRequest(*hello);
    const tofu::ChannelNumber ch = chnls->enqueueToPeer(hello).channel_number;
    (void)next();  // HelloResponse

    for (unsigned i = 0; i < a.count; ++i) {
        tofu::MessagePtr m = a.signal ? ampe.signal(ch, a.text) : ampe.request(ch, a.text);
        for (const auto& [name, value] : a.headers) {
            m->thdrs.append(name, value);
        }
        const tofu::BinaryHeader sent = chnls->enqueueToPeer(m);
        if (!a.signal) {
            tofu::MessagePtr resp = next();
            while (resp->id() != sent.message_id || resp->role() != tofu::MessageRole::response) {
                resp = next();  // not our answer
            }
            fmt::print("{}\n", printable(resp->text()));
            std::fflush(stdout);
        }
    }

    chnls->enqueueToPeer(ampe.byeRequest(ch));
    while (!next()->is(tofu::ValidCombination::ByeResponse)) {
    }
    return 0;
}

// Whether the listener sends msg back: Hello and Bye requests always (so that clients can connect and
// leave), application requests and signals with --echo.
bool answers(const tofu::Message& m, bool echo) {
    const tofu::ProtoFields& p = m.bhdr.proto;
    if (p.origin == tofu::OriginFlag::engine) {
        return false;
    }
    if (p.mtype == tofu::MessageType::hello || p.mtype == tofu::MessageType::bye) {
        return p.role == tofu::MessageRole::request;
    }
    return echo && (p.role == tofu::MessageRole::request || p.role == tofu::MessageRole::signal);
}

int runListener(const Args& a, const tofu::Configurator& cfg) {
    recipes::StopSignal stopSignal;  // before the engine's thread starts

    std::unique_ptr<tofu::Reactor> reactor = makeReactor(a);
    const StatsAtExit stats(*reactor, a.stats);
    tofu::Ampe& ampe = reactor->ampe();
    tofu::Group chnls = ampe.createGroup();
    tofu::MessagePtr welcome = ampe.get(tofu::AllocationStrategy::always);
    cfg.prepareRequest(*welcome);
    chnls->enqueueToPeer(welcome);
    tofu::MessagePtr resp = chnls->waitReceive(std::chrono::seconds(10));
    if (!resp || !resp->ok()) {
        const std::optional<std::string_view> why = resp ? resp->thdrs.find(tofu::ErrorHeader) : std::nullopt;
        fmt::print(stderr, "tofucat: cannot listen on {}: {}{}{}\n", a.url,
                   resp ? tofu::statusName(resp->status()) : "timeout", why ? " — " : "",
                   why ? *why : std::string_view());
        return 1;
    }
    fmt::print("listening on {}\n", a.url);
    std::fflush(stdout);

    std::atomic<bool> stopping{false};
    std::thread printer([&] {
        for (;;) {
            tofu::MessagePtr m;
            try {
                m = chnls->waitReceive(tofu::waitReceive_FOREVER);
            } catch (const tofu::AmpeError&) {
                return;
            }
            if (!m) {
                continue;
            }
            if (stopping && m->status() == tofu::AmpeStatus::receiver_update) {
                return;
            }
            fmt::print("{}", m->bhdr);
            tofu::TextHeaderIterator it = m->thdrs.hiter();
            while (std::optional<tofu::TextHeader> h = it.next()) {
                fmt::print(" [{}:{}]", h->name, h->value);
            }
            if (!m->body.empty()) {
                fmt::print(" {}", printable(m->text()));
            }
            fmt::print("\n");
            std::fflush(stdout);
            if (!answers(*m, a.echo)) {
                continue;
            }
            if (m->role() == tofu::MessageRole::request) {
                m->asResponse();  // same message: same id, headers, body
            }
            std::error_code ec;
            chnls->enqueueToPeer(m, ec);  // ec set: the channel closed meanwhile
        }
    });
    (void)stopSignal.wait();
    stopping = true;
    chnls->updateReceiver();
    printer.join();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const recipes::Utf8Args utf8(argc, argv);  // Windows: UTF-8, not the ANSI code page
    const Args a = parse(argc, argv);
    std::string why;
    const tofu::Configurator cfg =
        tofu::parseUrl(a.url, a.listen ? tofu::UrlRole::listen : tofu::UrlRole::connect, why);
    if (cfg.isWrong()) {
        bad(fmt::format("bad URL '{}': {}", a.url, why));
    }
    try {
        return a.listen ? runListener(a, cfg) : runClient(a, cfg);
    } catch (const Failure& f) {
        fmt::print(stderr, "tofucat: {}\n", f.reason);
    } catch (const tofu::AmpeError& e) {
        fmt::print(stderr, "tofucat: {}\n", e.what());
    }
    return 1;
}
