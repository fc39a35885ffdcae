#include "channel.hpp"

#include "loop.hpp"
#include "mchn_group.hpp"

namespace tofu::detail {

namespace {
// silent: as the caller asked (destroy), before an unknown accepted connection makes it silent anyway.
void countClose(EngineCounters& c, ChannelStats::Kind kind, AmpeStatus reason, bool silent) noexcept {
    switch (kind) {
        case ChannelStats::Kind::connection:
            c.connectionClosed(reason, silent);
            break;
        case ChannelStats::Kind::listener:
            EngineCounters::add(c.listenersClosed);
            break;
        case ChannelStats::Kind::connector:
            if (!silent && reason != AmpeStatus::channel_closed) {
                EngineCounters::add(c.connectFailures);  // not the application's bye
            }
            break;
    }
}
}  // namespace

ChannelStats Channel::stats() const {
    ChannelStats s;
    s.channel = cn_;
    s.kind = kind();
    s.since = since_;
    describe(s);
    return s;
}

void Channel::close(AmpeStatus reason, bool silent) noexcept {
    if (closed_) {
        return;
    }
    closed_ = true;
    countClose(loop_.counters(), kind(), countedCause(reason), silent);
    silent = silent || unknownToApplication();
    loop_.cancelTimers(*this);
    unwatch();
    beforeClose();
    fd_.reset();
    loop_.registry().remove(cn_);
    IntrusiveQueue<Message> unsent = takeUnsent();
    if (silent) {
        releaseAll(std::move(unsent));
    } else {
        while (Message* m = unsent.dequeue()) {
            loop_.delivery().bounce(*group_, m, reason);
        }
        loop_.delivery().signal(*group_, AmpeStatus::channel_closed, cn_, openMid_);
    }
    loop_.retire(*this);  // last: this object now waits in the graveyard
}

bool Channel::watch(std::uint32_t events, bool silentOnFailure) noexcept {
    try {
        loop_.poller().add(fd_.get(), events, token());
    } catch (const std::exception&) {
        // ENOMEM/ENOSPC from the poller: this channel fails, the engine goes on.
        close(AmpeStatus::processing_failed, silentOnFailure);
        return false;
    }
    watched_ = true;
    interest_ = events;
    return true;
}

void Channel::unwatch() noexcept {
    if (watched_) {
        loop_.poller().remove(fd_.get());
        watched_ = false;
    }
}

void Channel::updateInterest() noexcept {
    if (closed_ || !watched_) {
        return;
    }
    const std::uint32_t want = interest();
    if (want == interest_) {
        return;
    }
    try {
        loop_.poller().modify(fd_.get(), want, token());
        interest_ = want;
    } catch (const std::exception&) {
        close(AmpeStatus::processing_failed);  // this channel only, not the engine
    }
}

}  // namespace tofu::detail
