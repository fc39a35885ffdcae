// The engine behind tofu::Reactor: the Ampe implementation. It owns the pool, the channel registry, the
// inbox, the groups and the reactor thread, which runs the Loop (loop.hpp) over the channels.
//
// Threads: application threads call the Ampe/ChannelGroup API; they touch only the inbox, the registry,
// the pool and group mailboxes (each thread-safe). Everything else — sockets, channels, the poller —
// belongs to the reactor thread.
#pragma once

#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "channel_registry.hpp"
#include "inbox.hpp"
#include "loop.hpp"
#include "mchn_group.hpp"
#include "pool.hpp"
#include "resolver.hpp"
#include "tofu/ampe.hpp"
#include "tofu/reactor.hpp"

namespace tofu {

// Nested in the exported Reactor, so hidden explicitly: the engine is not part of the ABI.
class TOFU_HIDDEN Reactor::Impl final : public Ampe {
  public:
    explicit Impl(const Options& options);
    ~Impl() override;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    MessagePtr get(AllocationStrategy strategy) override;
    void put(MessagePtr& msg) noexcept override;
    ChannelGroup* create() override;
    void destroy(ChannelGroup* group) override;
    std::pmr::memory_resource* getAllocator() noexcept override { return mr_; }

    [[nodiscard]] EngineStats stats() const noexcept;
    [[nodiscard]] std::optional<std::vector<ChannelStats>> channelStats(std::chrono::milliseconds timeout);

    // For MchnGroup (application threads).
    [[nodiscard]] detail::Inbox& inbox() noexcept { return inbox_; }
    [[nodiscard]] detail::ChannelRegistry& channels() noexcept { return registry_; }
    [[nodiscard]] detail::PoolCore& pool() noexcept { return pool_.core(); }

  private:
    void run() noexcept;
    /// g is shut, out of the engine and no call is inside: its messages go back, it goes to the shelf.
    static void retire(std::unique_ptr<detail::MchnGroup> g) noexcept;

    detail::SocketRuntime sockets_;  // first in, last out: Winsock outlives every socket of the engine
    std::pmr::memory_resource* mr_;
    detail::Pool pool_;
    detail::ChannelRegistry registry_;
    detail::Inbox inbox_;
    std::unique_ptr<detail::Resolver> resolver_;
    std::unique_ptr<detail::Loop> loop_;

    // Groups alive (created, not yet destroyed); destroyed ones go to the GroupShelf.
    std::mutex groupsMutex_;
    std::mutex destroyMutex_;
    std::vector<std::unique_ptr<detail::MchnGroup>> groups_;

    std::thread thread_;
};

}  // namespace tofu
