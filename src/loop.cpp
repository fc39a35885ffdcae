#include "loop.hpp"

#include <algorithm>
#include <array>
#include <cerrno>

#include "connection.hpp"
#include "connector.hpp"
#include "listener.hpp"
#include "mchn_group.hpp"

namespace tofu::detail {

namespace {
constexpr std::uint64_t WakeToken = SpecialMaxChannelNumber;  // no channel has this number
}  // namespace

Loop::Loop(const Options& options, PoolCore& pool, ChannelRegistry& registry, Inbox& inbox,
           Resolver& resolver)
    : log_(options.log, options.logContext),
      registry_(registry),
      inbox_(inbox),
      resolver_(resolver),
      poller_(makePoller(options.poller)),
      lingerer_(*poller_),
      delivery_(pool),
      batches_(pool),
      liveness_(options.deadPeerTimeoutMs),
      maxSendQueueBytes_(options.maxSendQueueBytes != 0 ? options.maxSendQueueBytes
                                                        : DefaultOptions.maxSendQueueBytes),
      connectTimeout_(options.connectTimeoutMs == ConnectTimeoutOff
                          ? std::chrono::milliseconds(0)
                          : std::chrono::milliseconds(options.connectTimeoutMs != 0
                                                          ? options.connectTimeoutMs
                                                          : DefaultOptions.connectTimeoutMs)),
      table_(65536) {
    poller_->add(inbox_.wakeFd(), PollEvents::In, WakeToken);
}

Loop::~Loop() = default;

void Loop::run() noexcept {
    try {
        std::array<PollEvent, 256> events{};
        bool again = false;  // work arrived while re-arming the wake-up: poll without sleeping
        while (!inbox_.stopRequested()) {
            const std::size_t n = poller_->wait(events, again ? 0 : nextTimeoutMs());
            for (std::size_t i = 0; i < n; ++i) {
                dispatch(events[i]);
            }
            pass();
            again = inbox_.rearm() || resolver_.hasResults();
        }
    } catch (...) {
        // An internal failure: teardown follows and closes every mailbox, so no receiver waits forever
        // (the original's thread died silently).
    }
}

// Everything but the poller's events, once per wake-up.
void Loop::pass() {
    ++pass_;
    if (inbox_.takeRefill()) {
        resumePaused();
    }
    processResolved();
    processInbox();
    // Sends just queued may be holding the messages a paused channel waits for: try it again (it reads
    // into borrowed messages, PoolBatches::takeForReceive). Otherwise only a refill resumes it.
    if (!waitingForPool_.empty() && batches_.mayBorrow()) {
        resumePaused();
    }
    processTimers();
    delivery_.flush();
    batches_.endPass();
    graveyard_.clear();
}

void Loop::dispatch(const PollEvent& ev) {
    if (ev.token == WakeToken) {
        inbox_.drain();  // the inbox itself is looked at every pass
        return;
    }
    if (Lingerer::owns(ev.token)) {
        lingerer_.onEvent(ev.token, buffers_.recv);
        return;
    }
    if (Channel* ch = find(ev.token)) {
        ch->onEvent(ev.events);
    }
}

void Loop::processInbox() {
    IntrusiveQueue<Message> msgs;
    inbox_.take(msgs, commands_);  // held by the loop: should a send throw, teardown still completes them
    while (Message* m = msgs.dequeue()) {
        route(m);
    }
    flushQueued();
    for (Inbox::DestroyCommand* c : commands_) {
        destroyGroup(*c->group);
    }
    inbox_.complete(commands_);
    commands_.clear();
    answerQueries();
}

// After the pass's sends: what a query reports includes them.
void Loop::answerQueries() noexcept {
    inbox_.takeQueries(queries_);
    if (queries_.empty()) {
        return;
    }
    // One snapshot per pass, whatever the number of callers; the open channels only, by number.
    try {
        std::vector<ChannelStats> snapshot;
        snapshot.reserve(live_.size());
        for (const Channel* ch : live_) {
            if (!ch->closed()) {
                snapshot.push_back(ch->stats());
            }
        }
        std::sort(snapshot.begin(), snapshot.end(),
                  [](const ChannelStats& a, const ChannelStats& b) { return a.channel < b.channel; });
        const std::size_t last = queries_.size() - 1;
        for (std::size_t i = 0; i < last; ++i) {
            queries_[i]->channels = snapshot;  // copies for all but the last caller
            queries_[i]->answered = true;
        }
        queries_[last]->channels = std::move(snapshot);
        queries_[last]->answered = true;
    } catch (...) {
        for (const auto& q : queries_) {
            q->channels.clear();  // out of memory: the callers hear "no answer"
            q->answered = false;
        }
    }
    inbox_.answer(queries_);
}

// An application message: a Welcome or Hello opens a channel, anything else goes to its channel.
void Loop::route(Message* m) {
    MchnGroup& g = *static_cast<MchnGroup*>(MessageLinks::ctx(*m));
    MessageLinks::ctx(*m) = nullptr;
    if (m->bhdr.proto.mtype == MessageType::welcome && m->bhdr.proto.role == MessageRole::request) {
        Listener::open(*this, g, m);
        return;
    }
    if (m->bhdr.proto.mtype == MessageType::hello && m->bhdr.proto.role == MessageRole::request) {
        Connector::open(*this, g, m);
        return;
    }
    Channel* ch = table_[m->bhdr.channel_number].get();
    if (ch == nullptr || &ch->group() != &g) {
        // Closed after the sender checked it: the message comes back instead of vanishing.
        delivery_.bounce(g, m, AmpeStatus::channel_closed);
        return;
    }
    ch->submit(m);
}

void Loop::destroyGroup(MchnGroup& g) noexcept {
    while (!g.channels.empty()) {
        g.channels.back()->close(AmpeStatus::channel_closed, true);
    }
    delivery_.forget(g);
    g.closeMailbox();
}

void Loop::processResolved() {
    resolver_.take(resolved_);
    for (Resolver::Result& r : resolved_) {
        if (Channel* ch = find(r.token)) {
            ch->onResolved(r);
        }
    }
    resolved_.clear();
}

void Loop::schedule(Channel& ch, Clock::time_point when) {
    timers_.push_back(Timer{ch.token(), when});
}

int Loop::nextTimeoutMs() const {
    const int live = liveness_.timeoutMs();  // -1: nothing watched
    if (timers_.empty() && lingerer_.empty()) {
        return live;  // -1 when nothing is watched either: sleep until something happens
    }
    const auto now = Clock::now();
    auto soonest = Clock::time_point::max();
    for (const Timer& t : timers_) {
        soonest = std::min(soonest, t.when);
    }
    soonest = std::min(soonest, lingerer_.nextDue());
    const long long untilMs =
        soonest <= now ? 0 : std::chrono::ceil<std::chrono::milliseconds>(soonest - now).count();
    const int ms = static_cast<int>(std::min<long long>(untilMs, 1000));
    return live < 0 ? ms : std::min(ms, live);
}

void Loop::processTimers() {
    (void)liveness_.check([this](std::uint64_t token) -> Connection* {
        Channel* ch = find(token);
        return ch != nullptr ? ch->asConnection() : nullptr;
    });
    if (timers_.empty() && lingerer_.empty()) {
        return;  // the common pass: no clock read
    }
    const auto now = Clock::now();
    lingerer_.closeDue(now);
    // Due ones out first (what fires may schedule again); both vectors keep their capacity.
    dueTokens_.clear();
    std::erase_if(timers_, [this, now](const Timer& t) {
        if (now < t.when) {
            return false;
        }
        dueTokens_.push_back(t.token);
        return true;
    });
    for (const std::uint64_t token : dueTokens_) {
        if (Channel* ch = find(token)) {
            ch->onTimer();
        }
    }
}

void Loop::cancelTimers(const Channel& ch) noexcept {
    const std::uint64_t token = ch.token();
    std::erase_if(timers_, [token](const Timer& t) { return t.token == token; });
}

void Loop::waitForPool(Channel& ch) {
    waitingForPool_.push_back(ch.token());
}

void Loop::resumePaused() {
    refilling_.clear();
    refilling_.swap(waitingForPool_);  // both keep their capacity: no allocation per refill
    for (const std::uint64_t token : refilling_) {
        if (Channel* ch = find(token)) {
            ch->onRefill();
        }
    }
}

void Loop::flushLater(Channel& ch) {
    toFlush_.push_back(ch.token());
}

void Loop::flushQueued() {
    for (std::uint64_t token : toFlush_) {
        if (Channel* ch = find(token)) {
            ch->onFlush();  // write at once: most sends complete without waiting for Out
        }
    }
    toFlush_.clear();
}

Channel* Loop::find(std::uint64_t token) const noexcept {
    if (token >= (std::uint64_t{1} << 48)) {
        return nullptr;
    }
    Channel* ch = table_[static_cast<ChannelNumber>(token & 0xFFFFu)].get();
    return (ch != nullptr && ch->token() == token && !ch->closed()) ? ch : nullptr;
}

std::uint32_t Loop::nextGen() noexcept {
    const std::uint32_t g = gen_++;
    if (gen_ == 0) {
        gen_ = 1;
    }
    return g;
}

void Loop::install(std::unique_ptr<Channel> ch) {
    std::vector<Channel*>& list = ch->group().channels;
    ch->liveIndex = live_.size();
    live_.push_back(ch.get());
    ch->groupIndex = list.size();
    try {
        list.push_back(ch.get());
    } catch (...) {
        live_.pop_back();
        throw;
    }
    table_[ch->number()] = std::move(ch);
}

void Loop::replace(Channel& old, std::unique_ptr<Channel> next) noexcept {
    next->liveIndex = old.liveIndex;
    live_[old.liveIndex] = next.get();
    next->groupIndex = old.groupIndex;
    next->gen_ = old.gen_;
    next->watched_ = old.watched_;
    next->interest_ = old.interest_;
    next->group().channels[old.groupIndex] = next.get();
    old.closed_ = true;
    old.watched_ = false;
    const ChannelNumber cn = old.number();
    graveyard_.push_back(std::move(table_[cn]));
    table_[cn] = std::move(next);
}

void Loop::retire(Channel& ch) noexcept {
    std::vector<Channel*>& list = ch.group().channels;  // unlink in O(1): the last one takes our place
    Channel* last = list.back();
    list[ch.groupIndex] = last;
    last->groupIndex = ch.groupIndex;
    list.pop_back();
    Channel* lastLive = live_.back();
    live_[ch.liveIndex] = lastLive;
    lastLive->liveIndex = ch.liveIndex;
    live_.pop_back();
    graveyard_.push_back(std::move(table_[ch.number()]));
}

void Loop::teardown(std::vector<Inbox::DestroyCommand*>& cmds) noexcept {
    IntrusiveQueue<Message> msgs;
    inbox_.close(msgs, cmds);
    cmds.insert(cmds.end(), commands_.begin(),
                commands_.end());  // taken by a pass that ended in an exception
    commands_.clear();
    releaseAll(std::move(msgs));
    batches_.endPass();  // what a pass that ended in an exception left
    for (auto& slot : table_) {
        if (slot) {
            slot->close(AmpeStatus::shutdown_started, true);
        }
    }
    graveyard_.clear();
    lingerer_.closeDue(Clock::time_point::max());
    delivery_.discardAll();
}

}  // namespace tofu::detail
