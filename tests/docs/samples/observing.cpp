// Sample for docs/guide/observing.md: the engine log, the counters, the channel snapshot and JSON.
#include <mutex>
#include <string>
#include <vector>

#include "sample_support.hpp"

namespace {

// --8<-- [start:log]
// Runs on the reactor thread: keep it short, never wait, never call waitReceive/destroy/channelStats here.
void logLine(void* context, tofu::LogLevel level, std::string_view text) {
    auto* lines = static_cast<std::vector<std::string>*>(context);  // the application's own sink
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    lines->push_back(fmt::format("{}: {}", level, text));
}
// --8<-- [end:log]

}  // namespace

int main() {
    try {
        std::vector<std::string> lines;
        // --8<-- [start:options]
        tofu::Options options = tofu::DefaultOptions;
        options.log = logLine;        // off (nullptr) by default
        options.logContext = &lines;  // handed back to logLine as its first argument
        std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create(options);
        // --8<-- [end:options]
        tofu::Ampe& ampe = reactor->ampe();
        tofu::Group server = ampe.createGroup();
        tofu::Group client = ampe.createGroup();
        const std::string path = tofu::tempUdsPath();
        const samples::Link link = samples::connect(ampe, *server, *client, tofu::UDSServerConfigurator(path),
                                                    tofu::UDSClientConfigurator(path));
        for (int i = 0; i < 3; ++i) {
            client->enqueueToPeer(ampe.signal(link.client, "tick"));
            (void)samples::receive(*server);
        }

        // --8<-- [start:stats]
        const tofu::EngineStats stats = reactor->stats();  // any thread, any time: no waiting
        fmt::print("{}\n", stats);
        if (stats.sendRefused > 0) {
            fmt::print("a peer does not keep up: {} messages came back with send_failed\n",
                       stats.sendRefused);
        }
        // --8<-- [end:stats]

        // --8<-- [start:channels]
        const std::optional<std::vector<tofu::ChannelStats>> channels = reactor->channelStats();
        if (channels) {  // nullopt: the reactor did not answer within a second (or is stopping)
            for (const tofu::ChannelStats& ch : *channels) {
                fmt::print("{}\n", ch);  // ch.queuedMessages, ch.queuedBytes: what waits for a slow peer
            }
            const std::string json = tofu::toJson(reactor->stats(), *channels);  // for a scraper
            fmt::print("{}\n", json);
        }
        // --8<-- [end:channels]

        bool ok = samples::expect(stats.messagesIn >= 4, "hello and three ticks counted");
        ok = samples::expect(channels && channels->size() == 3, "listener and two connections") && ok;
        ok = samples::expect(!lines.empty() && lines[0].find("listening on") != std::string::npos,
                             "the listener logged") &&
             ok;
        return ok ? 0 : 1;
    } catch (const tofu::AmpeError& e) {
        fmt::print(stderr, "observing: {}\n", e.what());
        return 1;
    }
}
