// The engine behind tofu::Reactor: the Ampe implementation, its channel groups and the reactor thread.
//
// Threads: application threads call the Ampe/ChannelGroup API; they touch only the inbox (mutex),
// the registry (mutex), the pool (mutex) and group mailboxes (mutex). Everything else — sockets,
// channels, the poller — belongs to the reactor thread.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "channel_registry.hpp"
#include "channel.hpp"
#include "liveness.hpp"
#include "mchn_group.hpp"
#include "notifier.hpp"
#include "poller/poller.hpp"
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

    // For MchnGroup (application threads).
    [[nodiscard]] bool submit(detail::MchnGroup& group, Message* msg);
    [[nodiscard]] detail::ChannelRegistry& channels() noexcept { return registry_; }
    /// An engine signal (regular/signal/engine) from the pool, allocated when the pool is empty.
    [[nodiscard]] Message* makeSignal(AmpeStatus st, ChannelNumber cn, MessageID mid);

  private:
    static constexpr std::size_t MaxSendBatch = 128;  // frames gathered into one sendmsg()

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
    [[nodiscard]] static Message* sendPosition(const detail::Channel& ch, const Message& msg) noexcept;
    /// Gives msg back to its sender unsent: origin engine, status st.
    void bounce(detail::MchnGroup* group, Message* msg, AmpeStatus st) noexcept;
    void handleDestroy(detail::MchnGroup* group) noexcept;
    void onWelcome(detail::MchnGroup* group, Message* msg);
    void onHello(detail::MchnGroup* group, Message* msg);
    void failOpening(detail::MchnGroup* group, Message* msg, AmpeStatus st, std::string_view why = {});
    /// Appends the ~error header (what failed, the address, the OS's words) to a returned Welcome/Hello.
    static void explain(Message& msg, std::string_view why) noexcept;
    /// Why msg's address header does not give an address, with its value.
    [[nodiscard]] static std::string unusableAddress(const Message& msg, std::string_view header,
                                                     std::string_view tcpForm);
    void startNextConnect(detail::Channel& ch);
    void onConnectReady(detail::Channel& ch);
    /// Registers ch's socket with the poller; on failure closes ch (only ch) and returns false.
    [[nodiscard]] bool watch(detail::Channel& ch, std::uint32_t events,
                             bool silentOnFailure = false) noexcept;
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
    [[nodiscard]] std::size_t gatherSend(const detail::Channel& ch);
    [[nodiscard]] bool retireSent(detail::Channel& ch, std::size_t written, bool& ended);
    [[nodiscard]] static bool canSend(const detail::Channel& ch) noexcept;
    void onPeerEof(detail::Channel& ch);
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
    static void releaseAll(detail::IntrusiveQueue<Message>&& q) noexcept;

    std::pmr::memory_resource* mr_;
    detail::Pool pool_;
    detail::ChannelRegistry registry_;
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

    // Groups alive (created, not yet destroyed); destroyed ones go to the GroupShelf.
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
    std::vector<iovec> sendIov_;           // one sendmsg()'s pieces (kept: no zero-fill per call)
    std::vector<BinaryHeader::Bytes> sendHdrs_;
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
