// The engine's socket I/O on the reactor thread: readiness dispatch, accept, batched send and receive,
// frame validation and pool-empty back-pressure.
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine.hpp"

namespace tofu {

using detail::Channel;
using detail::MchnGroup;
namespace PE = detail::PollEvents;

namespace {
constexpr std::size_t SmallPart = 512;  // parts up to this size are copied into the staging buffer
constexpr int MaxReadsPerEvent = 8;     // fairness between busy channels
constexpr int MaxAcceptsPerEvent = 64;
constexpr std::size_t RxBatch = 16;  // pool messages taken under one lock while frames keep coming
constexpr auto AcceptBackoff = std::chrono::milliseconds(100);

bool isBye(const Message& m) noexcept {
    return m.bhdr.proto.mtype == MessageType::bye;
}
}  // namespace

void Reactor::Impl::dispatch(const detail::PollEvent& ev) {
    if (ev.token == SpecialMaxChannelNumber) {
        notifier_.drain();  // the inbox and alerts are looked at every pass
        return;
    }
    Channel* ch = channelFor(ev.token);
    if (ch == nullptr) {
        return;  // closed earlier in this pass
    }
    switch (ch->kind) {
        case Channel::Kind::listener:
            onAccept(*ch);
            return;
        case Channel::Kind::connecting:
            if ((ev.events & (PE::Out | PE::Err | PE::Hup)) != 0) {
                onConnectReady(*ch);
            }
            return;
        case Channel::Kind::io:
            break;
    }
    if ((ev.events & (PE::In | PE::Err | PE::Hup)) != 0) {
        if (!ch->paused && !ch->peerEof) {
            onReadable(*ch);
        } else if ((ev.events & (PE::Err | PE::Hup)) != 0 && !ch->detached) {
            // Hung up both ways (level-triggered) while we cannot read: what is left to send fails now
            // and comes back; then stop polling until the pool refills and the rest can be read.
            flushSend(*ch);
            if (!ch->closed) {
                poller_->remove(ch->fd.get());
                ch->detached = true;
            }
            return;
        }
    }
    if (!ch->closed && (ev.events & PE::Out) != 0) {
        flushSend(*ch);
    }
}

void Reactor::Impl::onAccept(Channel& listener) {
    for (int i = 0; i < MaxAcceptsPerEvent; ++i) {
        detail::UniqueFd fd;
        switch (detail::acceptOne(listener.fd.get(), fd, liveness_.optionMs())) {
            case detail::AcceptResult::accepted: {
                const ChannelNumber cn = registry_.allocate(listener.group);
                if (cn == 0) {
                    continue;  // every channel number in use: refuse this connection (fd closes)
                }
                Channel& ch = newChannel(cn, Channel::Kind::io, listener.group);
                ch.fd = std::move(fd);
                ch.decoder.setAccepted(true);
                (void)watch(ch, PE::In);  // silent on failure: unknown to the application yet
                break;
            }
            case detail::AcceptResult::wouldBlock:
                return;
            case detail::AcceptResult::transient:
                break;
            case detail::AcceptResult::exhausted:
                // Out of descriptors or memory: stop accepting for a while instead of spinning (defect 15).
                listener.backoff = true;
                listener.backoffUntil = std::chrono::steady_clock::now() + AcceptBackoff;
                backoff_.push_back(listener.cn);
                updateInterest(listener);
                return;
            case detail::AcceptResult::failed:
                closeChannel(listener, AmpeStatus::accept_failed);
                return;
        }
    }
}

void Reactor::Impl::onReadable(Channel& ch) {
    for (int i = 0; i < MaxReadsPerEvent; ++i) {
        const ssize_t n = ::recv(ch.fd.get(), scratch_.data(), scratch_.size(), 0);
        if (n > 0) {
            if (!consume(ch, std::span<const std::uint8_t>(scratch_.data(), static_cast<std::size_t>(n)))) {
                return;  // closed or paused
            }
            if (static_cast<std::size_t>(n) < scratch_.size()) {
                return;  // drained; level-triggered polling reports any later bytes
            }
            continue;
        }
        if (n == 0) {
            onPeerEof(ch);  // not "would block" (defect 6)
            return;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            closeChannel(ch, detail::ioFailureStatus(errno, AmpeStatus::recv_failed));
        }
        return;
    }
}

// The peer shut its sending side: nothing more comes in. What we still have queued goes out first (a
// peer may half-close and wait for its answers); the channel closes once that is done.
void Reactor::Impl::onPeerEof(Channel& ch) {
    if (!canSend(ch) || ch.peerDead) {
        closeChannel(ch, AmpeStatus::peer_disconnected);
        return;
    }
    ch.peerEof = true;
    updateInterest(ch);
}

bool Reactor::Impl::consume(Channel& ch, std::span<const std::uint8_t> in) {
    switch (parse(ch, in)) {
        case Parse::more:
            return true;
        case Parse::paused:
            pause(ch, in);
            return false;
        case Parse::closed:
            return false;
    }
    return false;
}

Reactor::Impl::Parse Reactor::Impl::parse(Channel& ch, std::span<const std::uint8_t>& in) {
    for (;;) {
        switch (ch.decoder.feed(in)) {
            case detail::FrameDecoder::Step::more:
                return Parse::more;
            case detail::FrameDecoder::Step::invalid:
                closeChannel(ch, AmpeStatus::communication_failed);  // a hostile or broken peer
                return Parse::closed;
            case detail::FrameDecoder::Step::need_message: {
                // Receive buffers come only from the pool: an empty pool is back-pressure.
                Message* m = takeRxMessage();
                if (m == nullptr) {
                    return Parse::paused;
                }
                try {
                    ch.decoder.attach(m);
                } catch (...) {
                    release(m);
                    closeChannel(ch, AmpeStatus::allocation_failed);
                    return Parse::closed;
                }
                break;
            }
            case detail::FrameDecoder::Step::frame: {
                const bool first = ch.decoder.firstFrame();
                Message* m = ch.decoder.take();
                m->bhdr.channel_number = ch.cn;  // the receiver's own number replaces the sender's
                if (!deliverIncoming(ch, m, first)) {
                    return Parse::closed;
                }
                break;
            }
        }
    }
}

bool Reactor::Impl::deliverIncoming(Channel& ch, Message* m, bool first) {
    if (first) {
        if (ch.decoder.accepted()) {
            ch.openMid = m->bhdr.message_id;  // the HelloRequest names the channel's conversation
        }
    }
    // A ByeResponse completes the initiator's bye; a ByeSignal ends the channel without an answer.
    const bool ends =
        m->bhdr.proto.mtype == MessageType::bye &&
        (m->bhdr.proto.role == MessageRole::response || m->bhdr.proto.role == MessageRole::signal);
    deliver(ch.group, m);
    if (ends) {
        closeChannel(ch, AmpeStatus::channel_closed);
        return false;
    }
    return true;
}

Message* Reactor::Impl::takeRxMessage() {
    if (Message* m = rxCache_.dequeue()) {
        return m;
    }
    // One message for the first frame of a pass (a lone request), a batch once frames keep coming.
    const std::size_t n = rxTakenThisPass_ ? RxBatch : 1;
    rxTakenThisPass_ = true;
    (void)pool_.core().getBatch(rxCache_, n);
    return rxCache_.dequeue();
}

void Reactor::Impl::pause(Channel& ch, std::span<const std::uint8_t> rest) {
    ch.stash.assign(rest.begin(), rest.end());
    if (!ch.paused) {
        ch.paused = true;
        paused_.push_back(ch.cn);
        updateInterest(ch);
    }
    if (!ch.poolSignalled) {
        ch.poolSignalled = true;  // one pool_empty per pause, not one per attempt (defect 10)
        try {
            deliver(ch.group, makeSignal(AmpeStatus::pool_empty, ch.cn, 0));
        } catch (...) {
        }
    }
}

void Reactor::Impl::resumePaused() {
    std::vector<ChannelNumber> list;
    list.swap(paused_);
    for (ChannelNumber cn : list) {
        Channel* ch = table_[cn].get();
        if (ch == nullptr || ch->closed || !ch->paused) {
            continue;
        }
        std::vector<std::uint8_t> stash;
        stash.swap(ch->stash);
        std::span<const std::uint8_t> in(stash);
        // A refill is a new chance: if the pool runs dry again the application hears of it again
        // (bounded: refills happen only when messages come back to an empty pool).
        ch->paused = false;
        ch->poolSignalled = false;
        const Parse r = parse(*ch, in);
        if (r == Parse::closed) {
            continue;
        }
        if (r == Parse::paused) {
            pause(*ch, in);
            continue;
        }
        if (ch->detached) {
            ch->detached = false;
            if (!watch(*ch, PE::In)) {
                continue;
            }
        }
        updateInterest(*ch);
    }
}

void Reactor::Impl::queueFlush(Channel& ch) {
    if (ch.kind == Channel::Kind::io && !ch.flushQueued) {
        ch.flushQueued = true;
        toFlush_.push_back(ch.cn);
    }
}

void Reactor::Impl::flushQueued() {
    for (ChannelNumber cn : toFlush_) {
        Channel* ch = table_[cn].get();
        if (ch != nullptr && !ch->closed) {
            ch->flushQueued = false;
            flushSend(*ch);  // write at once: most sends complete without waiting for Out
        }
    }
    toFlush_.clear();
}

bool Reactor::Impl::canSend(const Channel& ch) noexcept {
    const Message* head = ch.sendQ.front();
    // After our bye only the answer to the peer's bye may still go (both said bye at once).
    return head != nullptr && (!ch.stopSending || (head->bhdr.proto.mtype == MessageType::bye &&
                                                   head->bhdr.proto.role == MessageRole::response));
}

void Reactor::Impl::flushSend(Channel& ch) {
    if (ch.kind != Channel::Kind::io || ch.closed) {
        return;
    }
    bool full = false;
    bool ended = false;  // a ByeSignal went out: the channel ends here
    while (!full && !ended && canSend(ch)) {
        const std::size_t niov = gatherSend(ch);
        msghdr mh{};
        mh.msg_iov = sendIov_.data();
        mh.msg_iovlen = niov;
        const ssize_t n = ::sendmsg(ch.fd.get(), &mh, detail::sendFlags());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            const int err = errno;  // putAll may wake the reactor (a syscall)
            pool_.core().putAll(txDone_);
            if (err == EAGAIN || err == EWOULDBLOCK) {
                break;
            }
            closeChannel(ch, detail::ioFailureStatus(err, AmpeStatus::send_failed));
            return;
        }
        liveness_.wrote(ch);  // bytes the peer now owes an ACK for (no syscall)
        full = retireSent(ch, static_cast<std::size_t>(n), ended);
    }
    pool_.core().putAll(txDone_);
    if (ended) {
        // Our FIN follows the ByeSignal; what the peer sent meanwhile is dropped unread, so that the
        // close is not a reset that could discard the signal in flight.
        ::shutdown(ch.fd.get(), SHUT_WR);
        while (::recv(ch.fd.get(), scratch_.data(), scratch_.size(), 0) > 0) {
        }
        closeChannel(ch, AmpeStatus::channel_closed);
        return;
    }
    if (ch.peerEof && !canSend(ch)) {
        closeChannel(ch, AmpeStatus::peer_disconnected);  // everything owed to a half-closed peer is out
        return;
    }
    updateInterest(ch);
}

// Gathers up to MaxSendBatch frames (header, text headers, body) for one sendmsg(). Small parts are
// copied into one staging buffer (one iovec for a run of small frames: the kernel copies a few large
// pieces faster than many tiny ones); large parts are sent from the message itself. Stops after a bye.
std::size_t Reactor::Impl::gatherSend(const Channel& ch) {
    std::size_t niov = 0;
    std::size_t nmsg = 0;
    std::size_t staged = 0;
    std::size_t skip = ch.sentOff;
    auto add = [&](std::span<const std::uint8_t> part) {
        if (part.empty()) {
            return;
        }
        if (part.size() <= SmallPart && staged + part.size() <= sendStage_.size()) {
            std::uint8_t* dst = sendStage_.data() + staged;
            std::memcpy(dst, part.data(), part.size());
            staged += part.size();
            if (niov > 0 &&
                static_cast<std::uint8_t*>(sendIov_[niov - 1].iov_base) + sendIov_[niov - 1].iov_len == dst) {
                sendIov_[niov - 1].iov_len += part.size();
                return;
            }
            sendIov_[niov].iov_base = dst;
        } else {
            sendIov_[niov].iov_base = const_cast<std::uint8_t*>(part.data());
        }
        sendIov_[niov].iov_len = part.size();
        ++niov;
    };
    for (const Message* m = ch.sendQ.front(); m != nullptr && nmsg < MaxSendBatch; m = m->next) {
        sendHdrs_[nmsg] = m->bhdr.toBytes();
        const std::span<const std::uint8_t> parts[3] = {
            std::span<const std::uint8_t>(sendHdrs_[nmsg]),
            std::span<const std::uint8_t>(m->thdrs.buffer.data(), m->bhdr.thl),
            std::span<const std::uint8_t>(m->body.data(), m->bhdr.bl)};
        for (const auto& part : parts) {
            if (skip >= part.size()) {
                skip -= part.size();
                continue;
            }
            add(part.subspan(skip));
            skip = 0;
        }
        ++nmsg;
        if (isBye(*m)) {
            break;  // nothing after a bye goes out
        }
    }
    return niov;
}

// Retires every frame written whole and remembers how far into the next one `written` got. True when
// the socket took less than offered (wait for Out).
bool Reactor::Impl::retireSent(Channel& ch, std::size_t written, bool& ended) {
    while (Message* m = ch.sendQ.front()) {
        const std::size_t whole = Channel::frameSize(*m);
        const std::size_t frame = whole - ch.sentOff;
        if (written < frame) {
            ch.sentOff += written;
            return true;
        }
        written -= frame;
        ch.sentOff = 0;
        ch.queuedBytes -= whole;
        (void)ch.sendQ.dequeue();
        if (isBye(*m)) {
            ch.stopSending = true;
            ended = ended || m->bhdr.proto.role == MessageRole::signal;
        }
        m->ctx = nullptr;
        if (pool_.core().owns(*m)) {
            txDone_.enqueue(m);  // back to the pool together, under one lock
        } else {
            release(m);
        }
        if (written == 0) {
            break;
        }
    }
    return false;
}

void Reactor::Impl::updateInterest(Channel& ch) {
    if (ch.closed || !ch.registered || ch.detached || !ch.fd) {
        return;
    }
    std::uint32_t want = 0;
    switch (ch.kind) {
        case Channel::Kind::listener:
            want = ch.backoff ? 0 : PE::In;
            break;
        case Channel::Kind::connecting:
            want = PE::Out;
            break;
        case Channel::Kind::io:
            want = ((ch.paused || ch.peerEof) ? 0 : PE::In) | (canSend(ch) ? PE::Out : 0);
            break;
    }
    try {
        poller_->modify(ch.fd.get(), want, ch.token());
    } catch (const std::exception&) {
        closeChannel(ch, AmpeStatus::processing_failed);  // this channel only, not the engine
    }
}

}  // namespace tofu
