// The engine: lifecycle, the Ampe API, the reactor loop and the Welcome/Hello/close flows.
#include <algorithm>

#include <fmt/format.h>

#include "engine.hpp"
#include "message_mark.hpp"

namespace tofu {

using detail::Channel;
using detail::MchnGroup;

namespace {
// How long a connect keeps retrying a UDS listener whose backlog is full.
constexpr auto UdsBusyRetryLimit = std::chrono::seconds(20);
}  // namespace

// ---- Reactor (public handle) ----

std::unique_ptr<Reactor> Reactor::Create(const Options& options) {
    return std::unique_ptr<Reactor>(new Reactor(std::make_unique<Impl>(options)));
}

Reactor::Reactor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Reactor::~Reactor() = default;
Ampe& Reactor::ampe() noexcept {
    return *impl_;
}

// ---- lifecycle ----

Reactor::Impl::Impl(const Options& options)
    : mr_(options.allocator != nullptr ? options.allocator : std::pmr::get_default_resource()),
      pool_(options.initialPoolMsgs, options.maxPoolMsgs, mr_),
      notifier_(detail::Notifier::preferred()),
      poller_(detail::makePoller(options.poller)),
      table_(65536),
      scratch_(64 * 1024),
      sendStage_(64 * 1024),
      sendIov_(MaxSendBatch * 3),
      sendHdrs_(MaxSendBatch),
      maxSendQueueBytes_(options.maxSendQueueBytes != 0 ? options.maxSendQueueBytes
                                                        : DefaultOptions.maxSendQueueBytes),
      liveness_(options.deadPeerTimeoutMs) {
    poller_->add(notifier_.receiver(), detail::PollEvents::In, SpecialMaxChannelNumber);
    // Called under the pool mutex when a message comes back to a pool a reader found empty:
    // both steps are non-blocking.
    pool_.core().setAlerter([this] {
        refill_.store(true, std::memory_order_release);
        notifier_.notify();
    });
    resolver_ = std::make_unique<detail::Resolver>([this] {
        notifier_.notify();
    });
    thread_ = std::thread([this] { run(); });
}

Reactor::Impl::~Impl() {
    shutdown_.store(true, std::memory_order_release);
    notifier_.notify();
    if (thread_.joinable()) {
        thread_.join();  // always (the original skipped the join when its alert failed: defect 3)
    }
    resolver_.reset();
    // Groups the application did not destroy: wake their receivers, free their messages.
    std::vector<std::unique_ptr<MchnGroup>> groups;
    {
        std::lock_guard lock(groupsMutex_);
        groups.swap(groups_);
    }
    for (auto& g : groups) {
        g->shut();
        releaseAll(g->mailbox.close());
        g->waitCallsDone();  // a woken waitReceive still has to leave the group
        g->mailbox.waitIdle();
        g->mailbox.discard();
        // Kept, not freed: a thread that calls it after this (a receive loop racing the engine's end)
        // gets shutdown_started.
        detail::GroupShelf::instance().put(std::move(g));
    }
    groups.clear();
    pool_.core().setAlerter({});
    pool_.close();
}

void Reactor::Impl::run() noexcept {
    try {
        loop();
    } catch (...) {
        // An internal failure: fall through to teardown, which closes every mailbox so no receiver
        // waits forever (the original's thread died silently: defect 3).
    }
    teardown();
}

void Reactor::Impl::loop() {
    std::array<detail::PollEvent, 256> events{};
    bool again = false;  // work arrived while re-arming the notifier: poll without sleeping
    while (!shutdown_.load(std::memory_order_acquire)) {
        const std::size_t n = poller_->wait(events, again ? 0 : nextTimeoutMs());
        for (std::size_t i = 0; i < n; ++i) {
            dispatch(events[i]);
        }
        if (refill_.exchange(false, std::memory_order_acq_rel)) {
            resumePaused();
        }
        processResolved();
        processInbox();
        processTimers();
        flushGroups();
        pool_.core().putAll(rxCache_);  // what this pass did not use is the application's again
        rxTakenThisPass_ = false;
        graveyard_.clear();
        // Notifiers stayed silent while we worked; from here on they write again. Anything that came
        // in between is caught by this last look.
        notifier_.rearm();
        again = refill_.load(std::memory_order_acquire) || resolver_->hasResults() || inboxPending();
    }
}

bool Reactor::Impl::inboxPending() {
    std::lock_guard lock(inboxMutex_);
    return !inbox_.empty() || !commands_.empty();
}

void Reactor::Impl::teardown() noexcept {
    detail::IntrusiveQueue<Message> msgs;
    std::vector<DestroyCommand*> cmds;
    {
        std::lock_guard lock(inboxMutex_);
        inboxClosed_ = true;
        inbox_.move(msgs);
        cmds.swap(commands_);
    }
    while (Message* m = msgs.dequeue()) {
        release(m);
    }
    pool_.core().putAll(rxCache_);  // left by a pass that ended in an exception
    pool_.core().putAll(txDone_);
    for (auto& slot : table_) {
        if (slot) {
            closeChannel(*slot, AmpeStatus::shutdown_started, true);
        }
    }
    graveyard_.clear();
    for (MchnGroup* g : dirtyGroups_) {
        while (Message* m = g->outbox.dequeue()) {
            release(m);
        }
        g->dirty = false;
    }
    dirtyGroups_.clear();
    {
        std::lock_guard lock(groupsMutex_);
        for (auto& g : groups_) {
            releaseAll(g->mailbox.close());
        }
    }
    {
        std::lock_guard lock(inboxMutex_);
        for (DestroyCommand* c : cmds) {
            c->done = true;
        }
    }
    commandDone_.notify_all();
}

// ---- Ampe API (application threads) ----

MessagePtr Reactor::Impl::get(AllocationStrategy strategy) {
    return pool_.get(strategy);
}

// Into this engine's pool, whichever pool (or none) the message came from: the original grows a pool
// by putting freshly created messages into it.
void Reactor::Impl::put(MessagePtr& msg) noexcept {
    pool_.core().put(msg.release());
}

ChannelGroup* Reactor::Impl::create() {
    {
        std::lock_guard lock(inboxMutex_);
        if (inboxClosed_) {
            throw AmpeError(AmpeStatus::shutdown_started, "engine closed");
        }
    }
    std::unique_ptr<MchnGroup> g = detail::GroupShelf::instance().take();
    if (g) {
        g->reopen(*this);
    } else {
        g = std::make_unique<MchnGroup>(*this);
    }
    MchnGroup* raw = g.get();
    std::lock_guard lock(groupsMutex_);
    groups_.push_back(std::move(g));
    return raw;
}

void Reactor::Impl::destroy(ChannelGroup* group) {
    std::lock_guard serial(destroyMutex_);
    MchnGroup* g = nullptr;
    {
        std::lock_guard lock(groupsMutex_);
        for (auto& p : groups_) {
            if (p.get() == group) {
                g = p.get();
            }
        }
    }
    if (g == nullptr) {
        throw AmpeError(AmpeStatus::invalid_mchn_group, "not a live group of this engine");
    }
    g->shut();  // calls starting from now on fail with shutdown_started
    DestroyCommand cmd{g};
    {
        std::unique_lock lock(inboxMutex_);
        g->destroying = true;
        if (!inboxClosed_) {
            commands_.push_back(&cmd);
            lock.unlock();
            notifier_.notify();
            lock.lock();
            commandDone_.wait(lock, [&cmd] { return cmd.done; });
        }
    }
    // The reactor closed the group's channels and mailbox (or had already stopped): free what is left
    // once the calls still inside the group (woken by the close) are out.
    releaseAll(g->mailbox.close());
    g->waitCallsDone();
    g->mailbox.waitIdle();
    g->mailbox.discard();  // what the receiver took but never got to: back to the pool now
    std::unique_ptr<MchnGroup> owned;
    {
        std::lock_guard lock(groupsMutex_);
        auto it = std::find_if(groups_.begin(), groups_.end(), [g](const auto& p) { return p.get() == g; });
        if (it != groups_.end()) {
            owned = std::move(*it);
            groups_.erase(it);
        }
    }
    if (owned) {
        detail::GroupShelf::instance().put(std::move(owned));
    }
}

bool Reactor::Impl::submit(MchnGroup& group, Message* msg) {
    {
        std::lock_guard lock(inboxMutex_);
        if (inboxClosed_ || group.destroying) {
            return false;
        }
        inbox_.enqueue(msg);
    }
    notifier_.notify();
    return true;
}

Message* Reactor::Impl::makeSignal(AmpeStatus st, ChannelNumber cn, MessageID mid) {
    Message* m = pool_.core().get(AllocationStrategy::always);
    m->bhdr.proto.mtype = MessageType::regular;
    m->bhdr.proto.role = MessageRole::signal;
    m->bhdr.proto.origin = OriginFlag::engine;
    m->bhdr.status = status_to_raw(st);
    m->bhdr.channel_number = cn;
    m->bhdr.message_id = mid;
    detail::MessageMark::engineSignal(*m);
    return m;
}

void Reactor::Impl::release(Message* msg) noexcept {
    if (msg != nullptr) {
        msg->ctx = nullptr;
        MessageDeleter{}(msg);
    }
}

void Reactor::Impl::releaseAll(detail::IntrusiveQueue<Message>&& q) noexcept {
    while (Message* m = q.dequeue()) {
        release(m);
    }
}

// ---- reactor thread: inbox and flows ----

void Reactor::Impl::processInbox() {
    detail::IntrusiveQueue<Message> msgs;
    std::vector<DestroyCommand*> cmds;
    {
        std::lock_guard lock(inboxMutex_);
        inbox_.move(msgs);
        if (!commands_.empty()) {
            cmds.swap(commands_);
        }
    }
    while (Message* m = msgs.dequeue()) {
        handleAppMessage(m);
    }
    flushQueued();
    if (!cmds.empty()) {
        for (DestroyCommand* c : cmds) {
            handleDestroy(c->group);
        }
        {
            std::lock_guard lock(inboxMutex_);
            for (DestroyCommand* c : cmds) {
                c->done = true;
            }
        }
        commandDone_.notify_all();
    }
}

void Reactor::Impl::handleAppMessage(Message* m) {
    auto* g = static_cast<MchnGroup*>(m->ctx);
    m->ctx = nullptr;
    const std::optional<ValidCombination> vc = toValidCombination(m->bhdr.proto.mtype, m->bhdr.proto.role);
    if (vc == ValidCombination::WelcomeRequest) {
        onWelcome(g, m);
        return;
    }
    if (vc == ValidCombination::HelloRequest) {
        onHello(g, m);
        return;
    }
    Channel* ch = table_[m->bhdr.channel_number].get();
    if (ch == nullptr || ch->group != g) {
        // Closed after the sender checked it: the message comes back instead of vanishing (defect 1).
        bounce(g, m, AmpeStatus::channel_closed);
        return;
    }
    const bool bye = m->bhdr.proto.mtype == MessageType::bye;
    if ((vc == ValidCombination::ByeSignal && m->bhdr.proto.oob == Oob::on) ||
        (bye && ch->kind == Channel::Kind::listener)) {
        // Close now: the bye comes back first (origin engine, channel_closed), then the signal.
        ch->sendQ.pushFront(m);
        ch->sentOff = ch->sendQ.count() > 1 ? ch->sentOff : 0;
        closeChannel(*ch, AmpeStatus::channel_closed);
        return;
    }
    if (ch->kind == Channel::Kind::listener) {
        bounce(g, m, AmpeStatus::not_allowed);  // the original asserted here (defect 14)
        return;
    }
    // What the peer's engine would refuse (and drop the connection for) is refused here instead: on an
    // accepted channel the HelloResponse (or a bye) comes first and only once; a client never sends one.
    const bool accepted = ch->decoder.accepted();
    if (vc == ValidCombination::HelloResponse) {
        if (!accepted || ch->helloAnswered) {
            bounce(g, m, AmpeStatus::not_allowed);
            return;
        }
        ch->helloAnswered = true;
    } else if (accepted && !ch->helloAnswered && !bye) {
        bounce(g, m, AmpeStatus::not_allowed);
        return;
    }
    const std::size_t frame = Channel::frameSize(*m);
    if (!bye && m->bhdr.proto.oob == Oob::off && !ch->sendQ.empty() &&
        ch->queuedBytes + frame > maxSendQueueBytes_) {
        // The peer does not read: refuse rather than grow without bound; the channel stays open.
        bounce(g, m, AmpeStatus::send_failed);
        return;
    }
    ch->queuedBytes += frame;
    ch->sendQ.insertBefore(sendPosition(*ch, *m), m);
    queueFlush(*ch);
}

// Where a message joins a channel's send queue: at the tail, except
//  - oob: ahead of regular messages, behind earlier oob ones (FIFO among them), never in front of the
//    Hello (the peer's first frame must be it) or of a frame already partly written;
//  - a ByeResponse after our own bye: right behind that bye (both peers said bye at once: each must
//    still answer the other's).
Message* Reactor::Impl::sendPosition(const Channel& ch, const Message& m) noexcept {
    const auto isByeRequest = [](const Message& q) {
        return q.bhdr.proto.mtype == MessageType::bye && q.bhdr.proto.role == MessageRole::request;
    };
    Message* pos = ch.sendQ.front();
    if (m.bhdr.proto.mtype == MessageType::bye && m.bhdr.proto.role == MessageRole::response) {
        if (ch.stopSending) {
            return pos;  // our bye is written (sentOff is 0 then): the answer goes next
        }
        for (Message* q = pos; q != nullptr; q = q->next) {
            if (isByeRequest(*q)) {
                return q->next;
            }
        }
        return nullptr;
    }
    if (m.bhdr.proto.oob == Oob::off) {
        return nullptr;
    }
    if (pos != nullptr && (ch.sentOff > 0 || pos->bhdr.proto.mtype == MessageType::hello)) {
        pos = pos->next;
    }
    while (pos != nullptr && pos->bhdr.proto.oob == Oob::on) {
        pos = pos->next;
    }
    return pos;
}

void Reactor::Impl::bounce(MchnGroup* g, Message* m, AmpeStatus st) noexcept {
    detail::MessageMark::returned(*m);
    m->bhdr.proto.origin = OriginFlag::engine;
    m->bhdr.status = status_to_raw(st);
    deliver(g, m);
}

std::string Reactor::Impl::unusableAddress(const Message& m, std::string_view header,
                                           std::string_view tcpForm) {
    const std::optional<std::string_view> value = m.thdrs.find(header);
    if (!value) {
        return fmt::format("no {} header (expected {}:{} or {}:uds|PATH)", header, header, tcpForm, header);
    }
    return fmt::format(
        "{}:{} is not a usable address (expected {} with PORT 1-65535, or uds|PATH of at most {} "
        "bytes)",
        header, *value, tcpForm, MaxUdsPathLen);
}

void Reactor::Impl::explain(Message& m, std::string_view why) noexcept {
    if (why.empty()) {
        return;
    }
    try {
        (void)detail::removeHeader(m,
                                   ErrorHeader);  // a Hello sent again after a failure: the new reason only
        std::string text(why);
        std::replace_if(
            text.begin(), text.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
        m.thdrs.append(ErrorHeader, text);
        m.bhdr.thl = static_cast<std::uint16_t>(std::min<std::size_t>(m.thdrs.buffer.size(), 0xFFFF));
    } catch (...) {
        // No memory for the explanation: the status alone still says what failed.
    }
}

void Reactor::Impl::failOpening(MchnGroup* g, Message* m, AmpeStatus st, std::string_view why) {
    const ChannelNumber cn = m->bhdr.channel_number;
    const MessageID mid = m->bhdr.message_id;
    registry_.remove(cn);
    explain(*m, why);
    m->bhdr.proto.role = MessageRole::response;
    bounce(g, m, st);
    deliver(g, makeSignal(AmpeStatus::channel_closed, cn, mid));
}

Channel& Reactor::Impl::newChannel(ChannelNumber cn, Channel::Kind kind, MchnGroup* g) {
    auto ch = std::make_unique<Channel>();
    ch->cn = cn;
    ch->gen = nextGen_++;
    if (nextGen_ == 0) {
        nextGen_ = 1;
    }
    ch->kind = kind;
    ch->group = g;
    ch->groupIndex = g->channels.size();
    g->channels.push_back(ch.get());
    Channel& ref = *ch;
    table_[cn] = std::move(ch);
    return ref;
}

void Reactor::Impl::onWelcome(MchnGroup* g, Message* m) {
    const Configurator cfg = Configurator::fromMessage(*m);
    if (cfg.get_if<TCPServerConfigurator>() == nullptr && cfg.get_if<UDSServerConfigurator>() == nullptr) {
        // As the original: headers without a usable listen address are invalid_address (a Welcome without
        // any header was refused by check_and_prepare with wrong_configuration).
        failOpening(g, m, AmpeStatus::invalid_address, unusableAddress(*m, ListenOnHeader, "tcp|IP|PORT"));
        return;
    }
    detail::UniqueFd fd;
    std::string why;
    const AmpeStatus st = detail::createListener(cfg, fd, &why);
    if (st != AmpeStatus::success) {
        failOpening(g, m, st, why);
        return;
    }
    Channel& ch = newChannel(m->bhdr.channel_number, Channel::Kind::listener, g);
    ch.fd = std::move(fd);
    ch.openMid = m->bhdr.message_id;
    if (cfg.get_if<UDSServerConfigurator>() != nullptr) {
        ch.udsFile = detail::udsFileId(ch.fd.get());
    }
    if (!watch(ch, detail::PollEvents::In, true)) {
        failOpening(g, m, AmpeStatus::processing_failed);
        return;
    }
    if (const auto* tcp = cfg.get_if<TCPServerConfigurator>(); tcp != nullptr && tcp->port == 0) {
        // The kernel chose the port: the application learns it from the response.
        detail::setListenOn(*m, fmt::format("{}|{}|{}", TCPProto, tcp->addr, detail::localPort(ch.fd.get())));
    }
    if (const auto* uds = cfg.get_if<UDSServerConfigurator>(); uds != nullptr && uds->path.empty()) {
        // The engine chose the path: the WelcomeResponse tells the application which.
        detail::setListenOn(*m, std::string(UDSProto) + '|' + detail::boundUdsPath(ch.fd.get()));
    }
    // WelcomeResponse: the same message, answered by the engine on the application's behalf.
    m->bhdr.proto.role = MessageRole::response;
    m->bhdr.status = status_to_raw(AmpeStatus::success);
    deliver(g, m);
}

void Reactor::Impl::onHello(MchnGroup* g, Message* m) {
    const Configurator cfg = Configurator::fromMessage(*m);
    const auto* tcp = cfg.get_if<TCPClientConfigurator>();
    const auto* uds = cfg.get_if<UDSClientConfigurator>();
    if (tcp == nullptr && uds == nullptr) {
        failOpening(g, m, AmpeStatus::invalid_address, unusableAddress(*m, ConnectToHeader, "tcp|HOST|PORT"));
        return;
    }
    detail::Endpoint ep;
    bool direct = false;
    if (uds != nullptr) {
        if (!detail::udsEndpoint(uds->path, ep)) {
            failOpening(g, m, AmpeStatus::invalid_address,
                        "connect to uds|" + uds->path + ": not a usable socket path (empty or longer than " +
                            std::to_string(MaxUdsPathLen) + " bytes)");
            return;
        }
        direct = true;
    } else {
        direct = detail::numericEndpoint(tcp->addr, tcp->port, false, ep);
    }
    Channel& ch = newChannel(m->bhdr.channel_number, Channel::Kind::connecting, g);
    ch.openMid = m->bhdr.message_id;
    ch.sendQ.enqueue(m);  // the Hello is the first frame on the wire
    ch.queuedBytes = Channel::frameSize(*m);
    if (direct) {
        ch.endpoints.push_back(ep);
        startNextConnect(ch);
    } else {
        resolver_->request(ch.token(), tcp->addr, tcp->port);  // names never block the reactor
    }
}

void Reactor::Impl::processResolved() {
    resolver_->take(resolved_);
    for (detail::Resolver::Result& r : resolved_) {
        Channel* ch = channelFor(r.token);
        if (ch == nullptr || ch->kind != Channel::Kind::connecting) {
            continue;
        }
        if (r.status != AmpeStatus::success || r.endpoints.empty()) {
            ch->failText = std::move(r.why);
            closeChannel(*ch, AmpeStatus::invalid_address);
            continue;
        }
        ch->endpoints = std::move(r.endpoints);
        startNextConnect(*ch);
    }
    resolved_.clear();
}

void Reactor::Impl::startNextConnect(Channel& ch) {
    while (ch.nextEndpoint < ch.endpoints.size()) {
        const detail::Endpoint& ep = ch.endpoints[ch.nextEndpoint++];
        detail::UniqueFd fd;
        bool inProgress = false;
        bool busy = false;
        const AmpeStatus st =
            detail::startConnect(ep, fd, inProgress, liveness_.optionMs(), &busy, &ch.failText);
        const auto now = std::chrono::steady_clock::now();
        if (busy && (ch.retryDelay.count() == 0 || now < ch.connectDeadline)) {
            // A UDS listener with a full backlog: try the same address again a little later.
            if (ch.retryDelay.count() == 0) {
                ch.connectDeadline = now + UdsBusyRetryLimit;
            }
            ch.retryDelay =
                std::clamp(ch.retryDelay * 2, std::chrono::milliseconds(2), std::chrono::milliseconds(100));
            --ch.nextEndpoint;
            ch.backoff = true;
            ch.backoffUntil = now + ch.retryDelay;
            backoff_.push_back(ch.cn);
            return;
        }
        if (st != AmpeStatus::success) {
            ch.connectStatus = st;
            continue;
        }
        ch.fd = std::move(fd);
        if (!watch(ch, inProgress ? detail::PollEvents::Out : detail::PollEvents::In)) {
            return;
        }
        if (!inProgress) {
            onConnected(ch);
        }
        return;
    }
    closeChannel(ch, ch.connectStatus);
}

bool Reactor::Impl::watch(Channel& ch, std::uint32_t events, bool silentOnFailure) noexcept {
    try {
        poller_->add(ch.fd.get(), events, ch.token());
    } catch (const std::exception&) {
        // ENOMEM/ENOSPC from the poller: this channel fails, the engine goes on.
        closeChannel(ch, AmpeStatus::processing_failed, silentOnFailure);
        return false;
    }
    ch.registered = true;
    return true;
}

void Reactor::Impl::onConnectReady(Channel& ch) {
    const detail::Endpoint* ep = ch.nextEndpoint > 0 ? &ch.endpoints[ch.nextEndpoint - 1] : nullptr;
    if (detail::finishConnect(ch.fd.get(), &ch.failText, ep) == AmpeStatus::success) {
        onConnected(ch);
        return;
    }
    poller_->remove(ch.fd.get());
    ch.registered = false;
    ch.fd.reset();
    ch.connectStatus = AmpeStatus::connect_failed;
    startNextConnect(ch);
}

void Reactor::Impl::onConnected(Channel& ch) {
    ch.kind = Channel::Kind::io;
    ch.endpoints.clear();
    ch.endpoints.shrink_to_fit();
    updateInterest(ch);
    flushSend(ch);
}

void Reactor::Impl::handleDestroy(MchnGroup* g) noexcept {
    while (!g->channels.empty()) {
        closeChannel(*g->channels.back(), AmpeStatus::channel_closed, true);
    }
    if (g->dirty) {
        dirtyGroups_.erase(std::remove(dirtyGroups_.begin(), dirtyGroups_.end(), g), dirtyGroups_.end());
        g->dirty = false;
    }
    releaseAll(std::move(g->outbox));
    releaseAll(g->mailbox.close());
}

void Reactor::Impl::closeChannel(Channel& ch, AmpeStatus reason, bool silent) noexcept {
    if (ch.closed) {
        return;
    }
    ch.closed = true;
    {
        std::vector<Channel*>& list = ch.group->channels;  // unlink in O(1): the last one takes our place
        Channel* last = list.back();
        list[ch.groupIndex] = last;
        last->groupIndex = ch.groupIndex;
        list.pop_back();
    }
    // An accepted connection that never delivered its HelloRequest is unknown to the application.
    silent = silent || (ch.decoder.accepted() && ch.decoder.firstFrame());
    if (ch.registered && !ch.detached) {
        poller_->remove(ch.fd.get());
    }
    if (ch.kind == Channel::Kind::listener && ch.fd) {
        detail::unlinkUdsListener(ch.fd.get(), ch.udsFile);
    }
    ch.fd.reset();
    registry_.remove(ch.cn);
    release(ch.decoder.abandon());

    const bool helloPending = ch.kind == Channel::Kind::connecting;
    detail::IntrusiveQueue<Message> unsent;
    ch.sendQ.move(unsent);
    ch.queuedBytes = 0;
    while (Message* m = unsent.dequeue()) {
        if (silent) {
            release(m);
            continue;
        }
        if (helloPending && m->bhdr.proto.mtype == MessageType::hello) {
            m->bhdr.proto.role = MessageRole::response;  // the failed Hello answers itself
            explain(*m, ch.failText);
        }
        bounce(ch.group, m, reason);
    }
    if (!silent) {
        try {
            deliver(ch.group, makeSignal(AmpeStatus::channel_closed, ch.cn, ch.openMid));
        } catch (...) {
            // The pool is closed or out of memory: the application learns it from the next call.
        }
    }
    graveyard_.push_back(std::move(table_[ch.cn]));
}

void Reactor::Impl::deliver(MchnGroup* g, Message* m) noexcept {
    m->ctx = nullptr;
    g->outbox.enqueue(m);
    if (!g->dirty) {
        g->dirty = true;
        dirtyGroups_.push_back(g);
    }
}

void Reactor::Impl::flushGroups() noexcept {
    for (MchnGroup* g : dirtyGroups_) {
        g->dirty = false;
        if (!g->mailbox.pushAll(g->outbox)) {
            while (Message* m = g->outbox.dequeue()) {
                release(m);
            }
        }
    }
    dirtyGroups_.clear();
}

detail::Channel* Reactor::Impl::channelFor(std::uint64_t token) const noexcept {
    Channel* ch = table_[static_cast<ChannelNumber>(token & 0xFFFFu)].get();
    return (ch != nullptr && ch->token() == token && !ch->closed) ? ch : nullptr;
}

// ---- timers: accept back-off, dead-peer checks ----

int Reactor::Impl::nextTimeoutMs() const {
    const int live = liveness_.timeoutMs();  // -1: nothing watched
    if (backoff_.empty()) {
        return live;  // -1 when nothing is watched either: sleep until something happens
    }
    const auto now = std::chrono::steady_clock::now();
    auto soonest = std::chrono::steady_clock::time_point::max();
    for (ChannelNumber cn : backoff_) {
        const Channel* ch = table_[cn].get();
        if (ch != nullptr && !ch->closed && ch->backoff) {
            soonest = std::min(soonest, ch->backoffUntil);
        }
    }
    int ms = 1000;
    if (soonest != std::chrono::steady_clock::time_point::max()) {
        ms = soonest <= now ? 0
                            : static_cast<int>(std::min<long long>(
                                  std::chrono::ceil<std::chrono::milliseconds>(soonest - now).count(), 1000));
    }
    return live < 0 ? ms : std::min(ms, live);
}

void Reactor::Impl::processTimers() {
    (void)liveness_.check([this](std::uint64_t token) { return channelFor(token); });
    if (backoff_.empty()) {
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    std::vector<ChannelNumber> due;
    due.swap(backoff_);  // what fires may schedule itself again
    for (ChannelNumber cn : due) {
        Channel* ch = table_[cn].get();
        if (ch == nullptr || ch->closed || !ch->backoff) {
            continue;
        }
        if (now < ch->backoffUntil) {
            backoff_.push_back(cn);
            continue;
        }
        ch->backoff = false;
        if (ch->kind == Channel::Kind::connecting) {
            startNextConnect(*ch);
        } else {
            updateInterest(*ch);
        }
    }
}

}  // namespace tofu
