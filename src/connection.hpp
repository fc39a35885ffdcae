// A connected socket: frames both ways. Reading decodes frames into pool messages (an empty pool pauses
// reading: back-pressure); writing gathers queued frames into one sendmsg(). Its state says what may
// still be sent (the handshake, our bye) and whether it reads (paused, the peer's end of stream).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "channel.hpp"
#include "frame_decoder.hpp"
#include "liveness.hpp"
#include "send_queue.hpp"

namespace tofu::detail {

class Connection final : public Channel {
  public:
    /// What may be sent.
    enum class Phase : std::uint8_t {
        /// Accepted: until the application queues the HelloResponse, only it (or a bye) may go.
        awaitingAnswer,
        /// Anything may go.
        open,
        /// Our bye is written: only the answer to the peer's bye may still go.
        byeSent,
        /// Accepted, our bye written before any HelloResponse: as byeSent, and nothing but a bye is taken.
        byeSentUnanswered,
        /// A write found the peer closed (EPIPE, ECONNRESET): nothing more is sent, but what it sent before
        /// it closed is still read and delivered.
        peerGone,
    };
    /// Whether it reads.
    enum class Input : std::uint8_t {
        reading,
        paused,    // no pool message for the next frame: waiting for the pool
        detached,  // paused, and the peer hung up: off the poller until the pool refills
        ended,     // the peer shut its side: what is queued goes out, then the channel closes
    };
    /// A connection the listener accepted: it waits for the peer's HelloRequest.
    static void accepted(Loop& loop, MchnGroup& g, ChannelNumber cn, UniqueFd fd);

    /// A client's connection, taking the Connector's socket and queue (the Hello first): both are moved
    /// only once the object exists, so a failed allocation leaves them with the Connector.
    Connection(Loop& loop, MchnGroup& g, ChannelNumber cn, std::uint32_t gen, MessageID openMid, UniqueFd& fd,
               SendQueue& out) noexcept;
    /// An accepted connection.
    Connection(Loop& loop, MchnGroup& g, ChannelNumber cn, std::uint32_t gen, UniqueFd fd) noexcept;

    /// The client's first moves once connected: wait for what its state needs, send the Hello.
    void start();

    void onEvent(std::uint32_t events) override;
    void submit(Message* m) override;
    void onRefill() override;
    void onFlush() override { flush(); }
    [[nodiscard]] Connection* asConnection() noexcept override { return this; }
    [[nodiscard]] ChannelStats::Kind kind() const noexcept override { return ChannelStats::Kind::connection; }
    void describe(ChannelStats& out) const override;

    // The dead-peer watch's view.
    [[nodiscard]] PeerWatch watchState() const noexcept { return watch_; }
    void setWatch(PeerWatch w) noexcept {
        if (w == PeerWatch::dead && watch_ != PeerWatch::dead) {
            onDeadPeer();
        }
        watch_ = w;
    }

  private:
    enum class Parse : std::uint8_t { more, paused, closed };

    void read();
    [[nodiscard]] bool consume(std::span<const std::uint8_t> in);
    [[nodiscard]] Parse parse(std::span<const std::uint8_t>& in);
    [[nodiscard]] Parse parseFrames(std::span<const std::uint8_t>& in);
    [[nodiscard]] bool deliverIncoming(Message* m);
    void addPeerAddress(Message& hello) const noexcept;
    void pause(std::span<const std::uint8_t> rest);
    void onPeerEnd();
    void onInvalidFrame() noexcept;
    void onDeadPeer() noexcept;
    /// The peer's address for the log (empty when unknown).
    [[nodiscard]] std::string peerName() const noexcept;
    /// A failed send or recv closes the channel (the log says why when the kernel gave up on the peer).
    void failIo(int err, AmpeStatus otherwise) noexcept;

    void flush();
    [[nodiscard]] std::size_t gather(std::size_t& frames);
    [[nodiscard]] bool retire(std::size_t written, bool& ended);
    [[nodiscard]] bool canSend() const noexcept;
    void endAfterSignal() noexcept;
    void onPeerGone() noexcept;
    [[nodiscard]] bool refuse(const Message& m) noexcept;
    [[nodiscard]] bool byeWritten() const noexcept {
        return phase_ == Phase::byeSent || phase_ == Phase::byeSentUnanswered;
    }

    [[nodiscard]] std::uint32_t interest() const noexcept override;
    /// An accepted connection whose HelloRequest never arrived.
    [[nodiscard]] bool unknownToApplication() const noexcept override {
        return decoder_.accepted() && decoder_.firstFrame();
    }
    /// The end of stream after a bye exchange is the bye's doing, not the peer going away.
    /// A reset from the peer is the peer going away, whatever status the application is told.
    [[nodiscard]] AmpeStatus countedCause(AmpeStatus reason) const noexcept override {
        if (resetByPeer_) {
            reason = AmpeStatus::peer_disconnected;
        }
        return byeSeen_ && reason == AmpeStatus::peer_disconnected ? AmpeStatus::channel_closed : reason;
    }
    void beforeClose() noexcept override;
    [[nodiscard]] IntrusiveQueue<Message> takeUnsent() noexcept override { return out_.takeAll(); }

    Phase phase_;
    Input input_ = Input::reading;
    PeerWatch watch_ = PeerWatch::off;
    bool byeSeen_ = false;         // a bye was read or written: the close that follows counts as a bye
    bool resetByPeer_ = false;     // the close comes from ECONNRESET/EPIPE: counted as the peer's doing
    std::uint32_t flushPass_ = 0;  // the pass whose flush list holds this connection
    SendQueue out_;
    FrameDecoder decoder_;
    std::vector<std::uint8_t> stash_;  // bytes received while paused, parsed when the pool refills
    // This channel's traffic, for channelStats() (reactor thread only; TOFU_STATS=OFF: not kept).
    std::uint64_t messagesIn_ = 0;
    std::uint64_t bytesIn_ = 0;
    std::uint64_t publishedMessagesIn_ = 0;  // messagesIn_ and bytesIn_ as the engine's counters have them
    std::uint64_t publishedBytesIn_ = 0;
    std::uint64_t messagesOut_ = 0;
    std::uint64_t bytesOut_ = 0;
};

}  // namespace tofu::detail
