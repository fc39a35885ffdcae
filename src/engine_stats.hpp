// The engine's counters as the reactor keeps them (tofu::EngineStats is what stats() hands out) and its log
// (Options::log). The reactor thread is the only writer of these counters: an update is a relaxed load and
// store (no read-modify-write, no lock); any thread may read them. TOFU_STATS=OFF compiles the traffic
// counters (one update per frame or per write) out, so their cost can be measured.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "text.hpp"
#include "tofu/options.hpp"
#include "tofu/stats.hpp"
#include "tofu/status.hpp"

namespace tofu::detail {

#if defined(TOFU_STATS_OFF)
inline constexpr bool TrafficStats = false;
#else
inline constexpr bool TrafficStats = true;
#endif

class EngineCounters {
  public:
    using Counter = std::atomic<std::uint64_t>;

    /// c += n by its only writer.
    static void add(Counter& c, std::uint64_t n = 1) noexcept {
        c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    /// A traffic counter: compiled out with TOFU_STATS=OFF.
    static void traffic(Counter& c, std::uint64_t n) noexcept {
        if constexpr (TrafficStats) {
            add(c, n);
        }
    }

    /// A connection (not a listener or connector) closed for reason; silent: by destroy().
    void connectionClosed(AmpeStatus reason, bool silent) noexcept {
        if (silent) {
            add(closedDestroy);
        } else if (reason == AmpeStatus::channel_closed) {
            add(closedBye);
        } else if (reason == AmpeStatus::peer_disconnected) {
            add(closedPeer);
        } else {
            add(closedError);
        }
    }

    /// Everything but the pool's figures.
    void read(EngineStats& s) const noexcept;

    Counter messagesIn{0};
    Counter bytesIn{0};
    Counter messagesOut{0};
    Counter bytesOut{0};
    Counter sendCalls{0};
    Counter sendFrames{0};
    Counter connectionsOpened{0};
    Counter closedBye{0};
    Counter closedPeer{0};
    Counter closedError{0};
    Counter closedDestroy{0};
    Counter deadPeers{0};
    Counter listenersOpened{0};
    Counter listenersClosed{0};
    Counter listenFailures{0};
    Counter connectFailures{0};
    Counter acceptBackoffs{0};
    Counter sendRefused{0};
    Counter framesRefused{0};
    Counter poolEmptyPauses{0};
};

/// Options::log, formatted only when set. Reactor thread.
class EngineLog {
  public:
    EngineLog(LogCallback fn, void* context) noexcept : fn_(fn), context_(context) {}

    [[nodiscard]] bool enabled() const noexcept { return fn_ != nullptr; }

    template <class... Args>
    void operator()(LogLevel level, fmt::format_string<Args...> f, Args&&... args) const noexcept {
        if (fn_ == nullptr) {
            return;
        }
        try {
            // One line of plain ASCII whatever a peer put in an address or a header.
            const std::string text = printable(fmt::format(f, std::forward<Args>(args)...));
            fn_(context_, level, text);
        } catch (...) {
            // No memory for the line, or the callback threw: the engine goes on.
        }
    }

  private:
    LogCallback fn_;
    void* context_;
};

}  // namespace tofu::detail
