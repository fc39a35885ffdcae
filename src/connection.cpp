#include "connection.hpp"

#include <cerrno>
#include <cstring>

#include "liveness.hpp"
#include "loop.hpp"
#include "mchn_group.hpp"
#include "text.hpp"
#include "tofu/configurator.hpp"
#include "tofu/format.hpp"

namespace tofu::detail {

namespace {
constexpr std::size_t SmallPart = 512;  // parts up to this size are copied into the staging buffer
constexpr int MaxReadsPerEvent = 8;     // fairness between busy channels
namespace PE = PollEvents;
}  // namespace

void Connection::accepted(Loop& loop, MchnGroup& g, ChannelNumber cn, UniqueFd fd) {
    auto& c = loop.add<Connection>(g, cn, std::move(fd));
    (void)c.watch(PE::In);  // a failure closes it silently: unknown to the application yet
}

Connection::Connection(Loop& loop, MchnGroup& g, ChannelNumber cn, std::uint32_t gen, MessageID openMid,
                       UniqueFd& fd, SendQueue& out) noexcept
    : Channel(loop, g, cn, gen, openMid), phase_(Phase::open), out_(std::move(out)), decoder_(false) {
    fd_ = std::move(fd);
    EngineCounters::add(loop.counters().connectionsOpened);
}

Connection::Connection(Loop& loop, MchnGroup& g, ChannelNumber cn, std::uint32_t gen, UniqueFd fd) noexcept
    : Channel(loop, g, cn, gen, 0), phase_(Phase::awaitingAnswer), out_(&loop.pool()), decoder_(true) {
    fd_ = std::move(fd);
    EngineCounters::add(loop.counters().connectionsOpened);
}

void Connection::start() {
    updateInterest();
    flush();
}

void Connection::onEvent(std::uint32_t events) {
    if ((events & (PE::In | PE::Err | PE::Hup)) != 0) {
        if (input_ == Input::reading) {
            read();
        } else if ((events & (PE::Err | PE::Hup)) != 0 && watched()) {
            // Hung up both ways (level-triggered) while we cannot read: what is left to send fails now
            // and comes back; then stop polling until the pool refills and the rest can be read.
            flush();
            if (!closed()) {
                unwatch();
                if (input_ == Input::paused) {
                    input_ = Input::detached;
                }
            }
            return;
        }
    }
    if (!closed() && (events & PE::Out) != 0) {
        flush();
    }
}

// ---- receiving ----

void Connection::read() {
    std::vector<std::uint8_t>& buf = loop_.buffers().recv;
    for (int i = 0; i < MaxReadsPerEvent; ++i) {
        const std::ptrdiff_t n = recvSome(fd_.get(), buf.data(), buf.size());
        if (n > 0) {
            if (!consume(std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(n)))) {
                return;  // closed or paused
            }
            if (static_cast<std::size_t>(n) < buf.size()) {
                return;  // drained; level-triggered polling reports any later bytes
            }
            continue;
        }
        if (n == 0) {
            onPeerEnd();  // end of stream, not "would block"
            return;
        }
        const int err = socketError();
        if (err == EINTR) {
            continue;
        }
        if (err != EAGAIN && err != EWOULDBLOCK) {
            failIo(err, AmpeStatus::recv_failed);
        }
        return;
    }
}

// The peer shut its sending side: nothing more comes in. What we still have queued goes out first (a
// peer may half-close and wait for its answers); the channel closes once that is done.
void Connection::onPeerEnd() {
    if (!canSend() || watch_ == PeerWatch::dead) {
        close(AmpeStatus::peer_disconnected);
        return;
    }
    input_ = Input::ended;
    updateInterest();
}

bool Connection::consume(std::span<const std::uint8_t> in) {
    switch (parse(in)) {
        case Parse::more:
            return true;
        case Parse::paused:
            pause(in);
            return false;
        case Parse::closed:
            return false;
    }
    return false;
}

Connection::Parse Connection::parse(std::span<const std::uint8_t>& in) {
    const Parse p = parseFrames(in);
    if constexpr (TrafficStats) {
        // One update of the engine's counters per chunk read, not per frame.
        EngineCounters& c = loop_.counters();
        EngineCounters::traffic(c.messagesIn, messagesIn_ - publishedMessagesIn_);
        EngineCounters::traffic(c.bytesIn, bytesIn_ - publishedBytesIn_);
        publishedMessagesIn_ = messagesIn_;
        publishedBytesIn_ = bytesIn_;
    }
    return p;
}

Connection::Parse Connection::parseFrames(std::span<const std::uint8_t>& in) {
    for (;;) {
        switch (decoder_.feed(in)) {
            case FrameDecoder::Step::more:
                return Parse::more;
            case FrameDecoder::Step::invalid:
                onInvalidFrame();
                close(AmpeStatus::communication_failed);  // a hostile or broken peer
                return Parse::closed;
            case FrameDecoder::Step::need_message: {
                // Receive buffers come from the pool: an empty pool is back-pressure, unless this engine's
                // own send queues hold its messages.
                Message* m = loop_.pool().takeForReceive();
                if (m == nullptr) {
                    return Parse::paused;
                }
                try {
                    decoder_.attach(m);
                } catch (...) {
                    releaseMessage(m);
                    close(AmpeStatus::allocation_failed);
                    return Parse::closed;
                }
                break;
            }
            case FrameDecoder::Step::frame: {
                const bool first = decoder_.firstFrame();
                Message* m = decoder_.take();
                if constexpr (TrafficStats) {
                    ++messagesIn_;  // the engine's counters follow once per chunk read (parse())
                    bytesIn_ += SendQueue::frameSize(*m);  // as received
                }
                m->bhdr.channel_number = number();  // the receiver's own number replaces the sender's
                if (first && decoder_.accepted()) {
                    openMid_ = m->bhdr.message_id;  // the HelloRequest names the channel's conversation
                    addPeerAddress(*m);
                }
                if (!deliverIncoming(m)) {
                    return Parse::closed;
                }
                break;
            }
        }
    }
}

bool Connection::deliverIncoming(Message* m) {
    // A ByeResponse completes the initiator's bye; a ByeSignal ends the channel without an answer.
    const bool ends = SendQueue::isBye(*m) && m->bhdr.proto.role != MessageRole::request;
    byeSeen_ = byeSeen_ || SendQueue::isBye(*m);
    loop_.delivery().deliver(*group_, m);
    if (ends) {
        close(AmpeStatus::channel_closed);
        return false;
    }
    return true;
}

// No pool message for the next frame: keep the rest, stop reading, tell the application (once per pause).
void Connection::pause(std::span<const std::uint8_t> rest) {
    stash_.assign(rest.begin(), rest.end());
    if (input_ == Input::reading) {
        input_ = Input::paused;
        updateInterest();
    }
    loop_.waitForPool(*this);
    EngineCounters::add(loop_.counters().poolEmptyPauses);
    loop_.delivery().signal(*group_, AmpeStatus::pool_empty, number(), 0);
}

// A refill is a new chance: if the pool runs dry again the application hears of it again (bounded:
// refills happen only when messages come back to an empty pool).
void Connection::onRefill() {
    if (input_ != Input::paused && input_ != Input::detached) {
        return;
    }
    const Input before = input_;
    std::vector<std::uint8_t> stash;
    stash.swap(stash_);
    std::span<const std::uint8_t> in(stash);
    input_ = Input::reading;
    const Parse r = parse(in);
    if (r == Parse::closed) {
        return;
    }
    if (r == Parse::paused) {
        input_ = before;
        pause(in);
        return;
    }
    if (before == Input::detached && !watch(PE::In)) {
        return;
    }
    updateInterest();
}

// The server learns who connected from the socket, not only from what the client wrote.
void Connection::addPeerAddress(Message& hello) const noexcept {
    try {
        const std::string peer = peerAddress(fd_.get());
        if (peer.empty() || hello.thdrs.buffer.size() + PeerAddressHeader.size() + peer.size() + 3 > 0xFFFF) {
            return;
        }
        hello.thdrs.append(PeerAddressHeader, peer);
        hello.bhdr.thl = static_cast<std::uint16_t>(hello.thdrs.buffer.size());
    } catch (...) {
        // No memory for it: the request arrives without.
    }
}

// ---- sending ----

bool Connection::refuse(const Message& m) noexcept {
    // What the peer's engine would refuse (and drop the connection for) is refused here instead: on an
    // accepted channel the HelloResponse (or a bye) comes first and only once; a client never sends one.
    if (m.bhdr.proto.mtype == MessageType::hello) {
        if (phase_ != Phase::awaitingAnswer) {
            return true;
        }
        phase_ = Phase::open;
        return false;
    }
    return (phase_ == Phase::awaitingAnswer || phase_ == Phase::byeSentUnanswered) && !SendQueue::isBye(m);
}

void Connection::submit(Message* m) {
    if (SendQueue::isBye(*m) && m->bhdr.proto.role == MessageRole::signal && m->bhdr.proto.oob == Oob::on) {
        // Close now: the bye comes back first (channel_closed), then the rest, then the close notice.
        out_.addFront(m);
        close(AmpeStatus::channel_closed);
        return;
    }
    if (phase_ == Phase::peerGone) {
        loop_.delivery().bounce(*group_, m, AmpeStatus::send_failed);  // the channel closes at end of stream
        return;
    }
    if (refuse(*m)) {
        loop_.delivery().bounce(*group_, m, AmpeStatus::not_allowed);
        return;
    }
    if (out_.wouldExceed(*m, loop_.maxSendQueueBytes())) {
        // The peer does not read: refuse rather than grow without bound; the channel stays open.
        EngineCounters::add(loop_.counters().sendRefused);
        loop_.delivery().bounce(*group_, m, AmpeStatus::send_failed);
        return;
    }
    out_.add(m, byeWritten());
    if (flushPass_ != loop_.passNumber()) {
        flushPass_ = loop_.passNumber();
        loop_.flushLater(*this);
    }
}

bool Connection::canSend() const noexcept {
    const Message* head = out_.front();
    // After our bye only the answer to the peer's bye may still go (both said bye at once).
    return head != nullptr && phase_ != Phase::peerGone && (!byeWritten() || SendQueue::isByeResponse(*head));
}

void Connection::flush() {
    if (closed()) {
        return;
    }
    bool full = false;
    bool ended = false;  // a ByeSignal went out: the channel ends here
    while (!full && !ended && canSend()) {
        std::size_t frames = 0;
        const std::size_t niov = gather(frames);
        const std::ptrdiff_t n = sendGather(fd_.get(), loop_.buffers().iov.data(), niov);
        if (n < 0) {
            const int err = socketError();  // returnSent may wake the reactor (a syscall)
            if (err == EINTR) {
                continue;
            }
            loop_.pool().returnSent();
            if (err == EAGAIN || err == EWOULDBLOCK) {
                break;
            }
            if ((err == EPIPE || err == ECONNRESET || err == ECONNABORTED) && input_ != Input::ended) {
                onPeerGone();
                return;
            }
            failIo(err, AmpeStatus::send_failed);
            return;
        }
        loop_.liveness().wrote(*this);  // bytes the peer now owes an ACK for (no syscall)
        EngineCounters::traffic(loop_.counters().sendCalls, 1);
        EngineCounters::traffic(loop_.counters().sendFrames, frames);
        full = retire(static_cast<std::size_t>(n), ended);
    }
    loop_.pool().returnSent();
    if (ended) {
        endAfterSignal();
        return;
    }
    if (input_ == Input::ended && !canSend()) {
        close(AmpeStatus::peer_disconnected);  // everything owed to a half-closed peer is out
        return;
    }
    updateInterest();
}

// The peer closed its socket (after a ByeSignal of its own, say): what is queued comes back now, and the
// channel reads on to the end of the stream, so the frames the peer sent before it closed (its ByeSignal
// among them) are delivered before the channel closes.
void Connection::onPeerGone() noexcept {
    phase_ = Phase::peerGone;
    IntrusiveQueue<Message> unsent = out_.takeAll();
    while (Message* m = unsent.dequeue()) {
        loop_.delivery().bounce(*group_, m, AmpeStatus::send_failed);
    }
    updateInterest();
}

// Our FIN follows the ByeSignal. The socket itself stays open (the loop lingers on it, dropping what comes)
// until the peer closes too: a TCP socket closed while the peer still writes answers with a reset, which
// would discard the frames of ours the peer has not received yet — the ByeSignal among them.
void Connection::endAfterSignal() noexcept {
    shutdownSend(fd_.get());
    unwatch();
    loop_.lingerer().add(std::move(fd_));
    close(AmpeStatus::channel_closed);
}

// Gathers up to MaxSendBatch frames (header, text headers, body) for one sendmsg(). Small parts are
// copied into one staging buffer (one iovec for a run of small frames: the kernel copies a few large
// pieces faster than many tiny ones); large parts are sent from the message itself. Stops after a bye.
std::size_t Connection::gather(std::size_t& frames) {
    Loop::IoBuffers& b = loop_.buffers();
    std::size_t niov = 0;
    std::size_t staged = 0;
    std::size_t skip = out_.sentOff();
    // n bytes at the end of the staging buffer, joined to the previous iovec when that ends there;
    // nullptr when the part is large or the buffer full (the part is then sent from where it is).
    auto stage = [&](std::size_t n) -> std::uint8_t* {
        if (n > SmallPart || staged + n > b.stage.size()) {
            return nullptr;
        }
        std::uint8_t* dst = b.stage.data() + staged;
        staged += n;
        if (niov > 0 && ioVecEnd(b.iov[niov - 1]) == dst) {
            ioVecGrow(b.iov[niov - 1], n);
        } else {
            b.iov[niov] = makeIoVec(dst, n);
            ++niov;
        }
        return dst;
    };
    auto add = [&](std::span<const std::uint8_t> part) {
        if (skip >= part.size()) {
            skip -= part.size();
            return;
        }
        part = part.subspan(skip);
        skip = 0;
        if (std::uint8_t* dst = stage(part.size())) {
            std::memcpy(dst, part.data(), part.size());
            return;
        }
        b.iov[niov] = makeIoVec(const_cast<std::uint8_t*>(part.data()), part.size());
        ++niov;
    };
    std::size_t nmsg = 0;
    for (const Message* m = out_.front(); m != nullptr && nmsg < Loop::MaxSendBatch;
         m = MessageLinks::next(*m), ++nmsg) {
        std::uint8_t* hdr = skip == 0 ? stage(BinaryHeader::BHSIZE) : nullptr;
        if (hdr != nullptr) {
            m->bhdr.toBytes(
                std::span<std::uint8_t, BinaryHeader::BHSIZE>(hdr, BinaryHeader::BHSIZE));  // in place
        } else {
            b.headers[nmsg] = m->bhdr.toBytes();  // partly written, or the staging buffer is full
            add(b.headers[nmsg]);
        }
        add(std::span<const std::uint8_t>(m->thdrs.buffer.data(), m->bhdr.thl));
        add(std::span<const std::uint8_t>(m->body.data(), m->bhdr.bl));
        if (SendQueue::isBye(*m)) {
            ++nmsg;
            break;  // nothing after a bye goes out
        }
    }
    frames = nmsg;
    return niov;
}

// Retires every frame written whole and remembers how far into the next one `written` got. True when
// the socket took less than offered (wait for Out).
bool Connection::retire(std::size_t written, bool& ended) {
    std::uint64_t frames = 0;
    std::uint64_t bytes = 0;
    // One counter update per write, not per frame.
    auto count = [&]() noexcept {
        if constexpr (TrafficStats) {
            EngineCounters& c = loop_.counters();
            EngineCounters::traffic(c.messagesOut, frames);
            EngineCounters::traffic(c.bytesOut, bytes);
            messagesOut_ += frames;
            bytesOut_ += bytes;
        }
    };
    while (Message* m = out_.front()) {
        const std::size_t frame = SendQueue::frameSize(*m) - out_.sentOff();
        if (written < frame) {
            out_.advance(written);
            count();
            return true;
        }
        written -= frame;
        ++frames;
        bytes += SendQueue::frameSize(*m);
        (void)out_.popWritten();
        if (SendQueue::isBye(*m)) {
            byeSeen_ = true;
            phase_ = phase_ == Phase::awaitingAnswer ? Phase::byeSentUnanswered : Phase::byeSent;
            ended = ended || m->bhdr.proto.role == MessageRole::signal;
        }
        loop_.pool().sent(m);
        if (written == 0) {
            break;
        }
    }
    count();
    return false;
}

std::uint32_t Connection::interest() const noexcept {
    return (input_ == Input::reading ? PE::In : 0u) | (canSend() ? PE::Out : 0u);
}

void Connection::failIo(int err, AmpeStatus otherwise) noexcept {
    const AmpeStatus st = ioFailureStatus(err, otherwise);
    resetByPeer_ = err == ECONNRESET || err == EPIPE;
    if (st == AmpeStatus::peer_disconnected && loop_.log().enabled()) {
        loop_.log()(LogLevel::warning, "channel {} ({}): the kernel gave up on the peer ({}): closed",
                    number(), peerName(), std::strerror(err));
    }
    close(st);
}

void Connection::onInvalidFrame() noexcept {
    EngineCounters::add(loop_.counters().framesRefused);
    if (!loop_.log().enabled()) {
        return;
    }
    const BinaryHeader& h = decoder_.header();
    loop_.log()(LogLevel::warning, "channel {} ({}): invalid frame from the peer, {} ({}): disconnected",
                number(), peerName(), invalidReason(h, decoder_.accepted(), decoder_.firstFrame()), h);
}

void Connection::onDeadPeer() noexcept {
    EngineCounters::add(loop_.counters().deadPeers);
    if (loop_.log().enabled()) {
        loop_.log()(LogLevel::warning,
                    "channel {} ({}): no answer from the peer within {} ms: closing it as dead", number(),
                    peerName(), loop_.liveness().timings().timeout.count());
    }
}

std::string Connection::peerName() const noexcept {
    try {
        return peerAddress(fd_.get());
    } catch (...) {
        return {};
    }
}

void Connection::describe(ChannelStats& out) const {
    const char* state = "open";
    if (watch_ == PeerWatch::dead) {
        state = "dead-peer";
    } else if (input_ == Input::ended) {
        state = "ended";
    } else if (input_ == Input::paused || input_ == Input::detached) {
        state = "paused";
    } else {
        switch (phase_) {
            case Phase::awaitingAnswer:
                state = decoder_.firstFrame() ? "awaiting-hello" : "awaiting-answer";
                break;
            case Phase::open:
                break;
            case Phase::byeSent:
            case Phase::byeSentUnanswered:
                state = "bye-sent";
                break;
            case Phase::peerGone:
                state = "peer-gone";
                break;
        }
    }
    out.state = state;
    out.address = printable(peerAddress(fd_.get()));
    out.queuedMessages = out_.count();
    out.queuedBytes = out_.queuedBytes();
    out.messagesIn = messagesIn_;
    out.messagesOut = messagesOut_;
    out.bytesIn = bytesIn_;
    out.bytesOut = bytesOut_;
}

void Connection::beforeClose() noexcept {
    releaseMessage(decoder_.abandon());
}

}  // namespace tofu::detail
