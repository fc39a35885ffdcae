// The engine behind tofu::Reactor: the Ampe implementation, its channel groups and the reactor thread.
//
// Threads: application threads call the Ampe/ChannelGroup API; they touch only the inbox (mutex),
// the registry (mutex), the pool (mutex) and group mailboxes (mutex). Everything else — sockets,
// channels, the poller — belongs to the reactor thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "active_channels.hpp"
#include "channel.hpp"
#include "liveness.hpp"
#include "mailbox.hpp"
#include "notifier.hpp"
#include "poller/poller.hpp"
#include "pool.hpp"
#include "resolver.hpp"
#include "tofu/ampe.hpp"
#include "tofu/reactor.hpp"

namespace tofu {

namespace detail {

class MchnGroup final : public ChannelGroup {
  public:
    explicit MchnGroup(Reactor::Impl& engine) : engine_(engine) {}

    BinaryHeader enqueueToPeer(MessagePtr& msg) override;
    MessagePtr waitReceive(std::uint64_t timeout_ns) override;
    void updateReceiver(MessagePtr& msg) override;
    using ChannelGroup::updateReceiver;

    Mailbox mailbox;

    // Guarded by the engine's inbox mutex: set once destroy() starts; no message is accepted after.
    bool destroying = false;

    // Reactor thread only: messages delivered during the current pass, pushed to the mailbox at its end.
    IntrusiveQueue<Message> outbox;
    bool dirty = false;

  private:
    Reactor::Impl& engine_;
};

}  // namespace detail

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

    // For MchnGroup (application threads).
    [[nodiscard]] bool submit(detail::MchnGroup& group, Message* msg, ValidCombination vc);
    [[nodiscard]] detail::ActiveChannels& registry() noexcept { return registry_; }
    /// An engine signal (regular/signal/engine) from the pool, allocated when the pool is empty.
    [[nodiscard]] Message* makeSignal(AmpeStatus st, ChannelNumber cn, MessageID mid);

    [[nodiscard]] const char* pollerName() const noexcept { return poller_->name(); }

  private:
    struct DestroyCommand {
        detail::MchnGroup* group;
        bool done = false;
    };

    // Reactor thread.
    void run() noexcept;
    void loop();
    void teardown() noexcept;
    void dispatch(const detail::PollEvent& ev);
    void processInbox();
    [[nodiscard]] bool inboxPending();
    void handleAppMessage(Message* msg);
    void handleDestroy(detail::MchnGroup* group) noexcept;
    void onWelcome(detail::MchnGroup* group, Message* msg);
    void onHello(detail::MchnGroup* group, Message* msg);
    void failOpening(detail::MchnGroup* group, Message* msg, AmpeStatus st);
    void startNextConnect(detail::Channel& ch);
    void onConnectReady(detail::Channel& ch);
    void onConnected(detail::Channel& ch);
    void onAccept(detail::Channel& listener);
    void onReadable(detail::Channel& ch);
    enum class Parse : std::uint8_t { more, paused, closed };
    Parse parse(detail::Channel& ch, std::span<const std::uint8_t>& in);
    [[nodiscard]] bool consume(detail::Channel& ch, std::span<const std::uint8_t> in);
    bool deliverIncoming(detail::Channel& ch, Message* msg, bool first);
    [[nodiscard]] Message* takeRxMessage();
    void pause(detail::Channel& ch, std::span<const std::uint8_t> rest);
    void resumePaused();
    void flushSend(detail::Channel& ch);
    void queueFlush(detail::Channel& ch);
    void flushQueued();
    void updateInterest(detail::Channel& ch);
    void closeChannel(detail::Channel& ch, AmpeStatus reason, bool silent = false) noexcept;
    void deliver(detail::MchnGroup* group, Message* msg) noexcept;
    void flushGroups() noexcept;
    void processResolved();
    void processTimers();
    [[nodiscard]] int nextTimeoutMs() const;
    detail::Channel& newChannel(ChannelNumber cn, detail::Channel::Kind kind, detail::MchnGroup* group);
    [[nodiscard]] detail::Channel* channelFor(std::uint64_t token) const noexcept;
    static void release(Message* msg) noexcept;

    std::pmr::memory_resource* mr_;
    detail::Pool pool_;
    detail::ActiveChannels registry_;
    detail::Notifier notifier_;
    std::unique_ptr<detail::Poller> poller_;

    // Inbox: application threads -> reactor.
    std::mutex inboxMutex_;
    std::condition_variable commandDone_;
    detail::IntrusiveQueue<Message> inbox_;
    std::vector<DestroyCommand*> commands_;
    bool inboxClosed_ = false;

    std::atomic<bool> shutdown_{false};
    std::atomic<bool> refill_{false};

    // Groups alive (created, not yet destroyed).
    std::mutex groupsMutex_;
    std::mutex destroyMutex_;
    std::vector<std::unique_ptr<detail::MchnGroup>> groups_;

    // Reactor-thread state.
    std::vector<std::unique_ptr<detail::Channel>> table_;  // indexed by channel number
    std::vector<std::unique_ptr<detail::Channel>> graveyard_;
    std::vector<detail::MchnGroup*> dirtyGroups_;
    std::vector<ChannelNumber> toFlush_;
    std::vector<ChannelNumber> paused_;
    std::vector<ChannelNumber> backoff_;
    std::vector<detail::Resolver::Result> resolved_;
    std::vector<std::uint8_t> scratch_;
    std::vector<std::uint8_t> sendStage_;  // small frames copied together for one sendmsg()
    // Pool messages taken in one go for incoming frames (returned at the end of each pass), and
    // sent messages going back in one go.
    detail::IntrusiveQueue<Message> rxCache_;
    detail::IntrusiveQueue<Message> txDone_;
    bool rxTakenThisPass_ = false;
    std::uint32_t nextGen_ = 1;
    std::size_t maxSendQueueBytes_;
    detail::LivenessWatch liveness_;  // dead-peer checks for TCP channels with unacknowledged data

    std::unique_ptr<detail::Resolver> resolver_;
    std::thread thread_;
};

}  // namespace tofu
