// Observing an engine from a program: the engine log on stderr (Options::log) and the counters printed
// every few seconds on a thread of their own (Reactor::stats()). Used by tofu-echo and tofucat.
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string_view>
#include <thread>

#include <tofu/tofu.hpp>

namespace recipes {

/// An Options::log callback: one line on stderr. Runs on the reactor thread; a write to stderr is short.
inline void logToStderr(void* /*context*/, tofu::LogLevel level, std::string_view text) {
    fmt::print(stderr, "tofu {}: {}\n", level, text);
    std::fflush(stderr);
}

/// The engine's counters on one line of out, prefixed "stats: ".
inline void printStats(const tofu::Reactor& reactor, std::FILE* out) {
    fmt::print(out, "stats: {}\n", reactor.stats());
    std::fflush(out);
}

/// The counters, then one line per open channel (the reactor answers within a second, or it says so).
inline void printStatsAndChannels(const tofu::Reactor& reactor, std::FILE* out) {
    printStats(reactor, out);
    const auto channels = reactor.channelStats();
    if (!channels) {
        fmt::print(out, "channels: no answer from the engine\n");
    } else {
        for (const tofu::ChannelStats& c : *channels) {
            fmt::print(out, "channel: {}\n", c);
        }
    }
    std::fflush(out);
}

/// Prints the counters every `period` until destroyed (nothing when period is zero).
class StatsTicker {
  public:
    StatsTicker(const tofu::Reactor& reactor, std::chrono::seconds period, std::FILE* out) {
        if (period.count() > 0) {
            thread_ = std::thread([this, &reactor, period, out] {
                std::unique_lock lock(mutex_);
                while (!cv_.wait_for(lock, period, [this] { return stop_; })) {
                    printStats(reactor, out);
                }
            });
        }
    }
    ~StatsTicker() {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        cv_.notify_all();
        if (thread_.joinable()) {
            thread_.join();
        }
    }
    StatsTicker(const StatsTicker&) = delete;
    StatsTicker& operator=(const StatsTicker&) = delete;

  private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace recipes
