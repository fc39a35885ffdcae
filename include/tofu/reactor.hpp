// tofu: the Reactor — the Ampe implementation, one I/O thread with its own poll loop.
#pragma once

#include "tofu/export.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "tofu/ampe.hpp"
#include "tofu/options.hpp"
#include "tofu/stats.hpp"

namespace tofu {

/// Owns the engine: Create() starts the reactor thread; destroying the Reactor stops and joins it,
/// closes every channel, destroys groups that were not destroyed and closes the pool
/// (messages still held by the application free themselves when released).
class TOFU_API Reactor {
  public:
    /// Starts a new engine with options. Throws AmpeError on failure.
    [[nodiscard]] static std::unique_ptr<Reactor> Create(const Options& options = DefaultOptions);

    /// Stops and joins the reactor thread and releases everything the engine owns.
    ~Reactor();
    Reactor(const Reactor&) = delete;
    Reactor& operator=(const Reactor&) = delete;

    /// The engine interface (valid as long as the Reactor lives).
    [[nodiscard]] Ampe& ampe() noexcept;

    /// The engine's counters now (see EngineStats), from any thread, without waiting: relaxed atomic loads.
    [[nodiscard]] EngineStats stats() const noexcept;

    /// A snapshot of every open channel (listeners, connectors, connections), taken by the reactor thread
    /// between two passes of its loop, sorted by channel number; nullopt when it did not answer within
    /// timeout (or is stopping). One snapshot per pass serves every caller; a call that gives up leaves the
    /// queue. A negative timeout counts as 0.
    /// Waits for the reactor: do not call it from the engine log's callback. Counters read with stats()
    /// after it returns include everything the reactor did before it answered.
    [[nodiscard]] std::optional<std::vector<ChannelStats>> channelStats(
        std::chrono::milliseconds timeout = std::chrono::seconds(1)) const;

    /// The engine's implementation; private to the library.
    class Impl;

  private:
    explicit Reactor(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace tofu
