// The reactor thread's loop: polls, hands each event to the channel its token names, takes the inbox,
// runs timers, and at the end of every pass pushes what it collected to the groups' mailboxes. It also
// provides what channels share: the poller, the channel table, the delivery, the pool batches, the I/O
// buffers and the dead-peer watch. Reactor thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "channel.hpp"
#include "channel_registry.hpp"
#include "delivery.hpp"
#include "engine_stats.hpp"
#include "inbox.hpp"
#include "lingerer.hpp"
#include "liveness.hpp"
#include "poller/poller.hpp"
#include "pool.hpp"
#include "pool_batches.hpp"
#include "resolver.hpp"
#include "tofu/options.hpp"

namespace tofu::detail {

class Loop {
  public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::size_t MaxSendBatch = 128;  // frames gathered into one sendmsg()

    /// Buffers every channel uses in turn (the loop runs one channel at a time).
    struct IoBuffers {
        std::vector<std::uint8_t> recv = std::vector<std::uint8_t>(std::size_t{64} * 1024);
        std::vector<std::uint8_t> stage =
            std::vector<std::uint8_t>(std::size_t{64} * 1024);  // small parts of a send
        std::vector<IoVec> iov = std::vector<IoVec>(MaxSendBatch * 3);
        std::vector<BinaryHeader::Bytes> headers = std::vector<BinaryHeader::Bytes>(MaxSendBatch);
    };

    Loop(const Options& options, PoolCore& pool, ChannelRegistry& registry, Inbox& inbox, Resolver& resolver);
    ~Loop();
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;

    /// Runs passes until the inbox asks to stop; returns early (without throwing) on an internal failure.
    void run() noexcept;
    /// After run(): closes every channel silently and frees what is collected, queued or cached. The
    /// inbox is closed; its waiting destroy commands are handed back for completion.
    void teardown(std::vector<Inbox::DestroyCommand*>& cmds) noexcept;

    // ---- for channels ----
    [[nodiscard]] Poller& poller() noexcept { return *poller_; }
    [[nodiscard]] ChannelRegistry& registry() noexcept { return registry_; }
    [[nodiscard]] Delivery& delivery() noexcept { return delivery_; }
    [[nodiscard]] Resolver& resolver() noexcept { return resolver_; }
    [[nodiscard]] LivenessWatch& liveness() noexcept { return liveness_; }
    [[nodiscard]] IoBuffers& buffers() noexcept { return buffers_; }
    [[nodiscard]] std::size_t maxSendQueueBytes() const noexcept { return maxSendQueueBytes_; }
    /// Options::connectTimeoutMs resolved: 0 for no limit of the engine's own.
    [[nodiscard]] std::chrono::milliseconds connectTimeout() const noexcept { return connectTimeout_; }

    /// A new channel of type T in slot cn, listed in g.
    template <class T, class... Args>
    T& add(MchnGroup& g, ChannelNumber cn, Args&&... args) {
        auto ch = std::make_unique<T>(*this, g, cn, nextGen(), std::forward<Args>(args)...);
        T& ref = *ch;
        install(std::move(ch));
        return ref;
    }
    /// next takes old's place (slot, token, group list, poller registration); old is retired unclosed.
    void replace(Channel& old, std::unique_ptr<Channel> next) noexcept;
    /// From Channel::close(): out of the table and the group; freed at the end of the pass.
    void retire(Channel& ch) noexcept;

    /// ch->onTimer() at `when` (or soon after).
    void schedule(Channel& ch, Clock::time_point when);
    /// Drops ch's timers (it closed, or another object took its token).
    void cancelTimers(const Channel& ch) noexcept;
    /// ch->onRefill() once messages come back to the pool.
    void waitForPool(Channel& ch);
    /// ch->onFlush() before this pass ends (after the inbox is taken: many sends, one write). Once per
    /// pass and channel: the caller compares passNumber() with the pass it last asked in.
    void flushLater(Channel& ch);
    [[nodiscard]] std::uint32_t passNumber() const noexcept { return pass_; }

    /// Keeps the socket of a channel that closed after writing its ByeSignal (lingerer.hpp).
    [[nodiscard]] Lingerer& lingerer() noexcept { return lingerer_; }

    [[nodiscard]] PoolBatches& pool() noexcept { return batches_; }

    /// The engine's counters (written here, read by Reactor::stats() on any thread) and its log.
    [[nodiscard]] EngineCounters& counters() noexcept { return counters_; }
    [[nodiscard]] const EngineCounters& counters() const noexcept { return counters_; }
    [[nodiscard]] const EngineLog& log() const noexcept { return log_; }

  private:
    struct Timer {
        std::uint64_t token = 0;
        Clock::time_point when{};
    };

    void pass();
    void dispatch(const PollEvent& ev);
    void processInbox();
    void route(Message* m);
    void destroyGroup(MchnGroup& g) noexcept;
    void answerQueries() noexcept;
    void processResolved();
    void processTimers();
    void resumePaused();
    void flushQueued();
    [[nodiscard]] int nextTimeoutMs() const;
    [[nodiscard]] Channel* find(std::uint64_t token) const noexcept;
    void install(std::unique_ptr<Channel> ch);
    [[nodiscard]] std::uint32_t nextGen() noexcept;

    EngineCounters counters_;
    EngineLog log_;
    ChannelRegistry& registry_;
    Inbox& inbox_;
    Resolver& resolver_;
    std::unique_ptr<Poller> poller_;
    Lingerer lingerer_;
    Delivery delivery_;
    PoolBatches batches_;
    LivenessWatch liveness_;  // dead-peer checks for TCP channels with unacknowledged data
    std::size_t maxSendQueueBytes_;
    std::chrono::milliseconds connectTimeout_;

    std::vector<std::unique_ptr<Channel>> table_;  // indexed by channel number
    std::vector<std::unique_ptr<Channel>> graveyard_;
    std::vector<Timer> timers_;
    std::vector<std::uint64_t> waitingForPool_;
    std::vector<std::uint64_t> refilling_;  // resumePaused's list, kept for its capacity
    std::vector<std::uint64_t> dueTokens_;  // processTimers' list, kept for its capacity
    std::vector<std::uint64_t> toFlush_;
    std::vector<Resolver::Result> resolved_;
    std::vector<Inbox::DestroyCommand*> commands_;  // taken from the inbox, completed after the pass's sends
    std::vector<Channel*> live_;  // every channel in table_, in no order (Channel::liveIndex)
    Inbox::Queries queries_;      // channelStats() calls taken from the inbox
    std::uint32_t gen_ = 1;
    std::uint32_t pass_ = 1;
    IoBuffers buffers_;
};

}  // namespace tofu::detail
