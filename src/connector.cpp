#include "connector.hpp"

#include <algorithm>

#include "connection.hpp"
#include "loop.hpp"
#include "mchn_group.hpp"
#include "opening.hpp"
#include "text.hpp"
#include "tofu/configurator.hpp"

namespace tofu::detail {

void Connector::open(Loop& loop, MchnGroup& g, Message* m) {
    const Configurator cfg = Configurator::fromMessage(*m);
    const auto* tcp = cfg.get_if<TCPClientConfigurator>();
    const auto* uds = cfg.get_if<UDSClientConfigurator>();
    if (tcp == nullptr && uds == nullptr) {
        failOpening(loop, g, m, AmpeStatus::invalid_address,
                    unusableAddress(*m, ConnectToHeader, "tcp|HOST|PORT"));
        return;
    }
    Endpoint ep;
    bool direct = false;
    if (uds != nullptr) {
        if (!udsEndpoint(uds->path, ep)) {
            failOpening(loop, g, m, AmpeStatus::invalid_address,
                        "connect to uds|" + uds->path + ": not a usable socket path (empty or longer than " +
                            std::to_string(MaxUdsPathLen) + " bytes)");
            return;
        }
        direct = true;
    } else {
        direct = numericEndpoint(tcp->addr, tcp->port, false, ep);
    }
    auto& c = loop.add<Connector>(g, m->bhdr.channel_number, m);
    c.target_ = uds != nullptr ? std::string(UDSProto) + '|' + uds->path
                               : std::string(TCPProto) + '|' + tcp->addr + '|' + std::to_string(tcp->port);
    if (loop.connectTimeout().count() > 0) {
        c.deadline_ = std::chrono::steady_clock::now() + loop.connectTimeout();
        loop.schedule(c, c.deadline_);
    }
    if (direct) {
        c.endpoints_.push_back(ep);
        c.connectNext();
    } else {
        try {
            loop.resolver().request(c.token(), tcp->addr, tcp->port);  // names never block the reactor
        } catch (const std::exception& e) {
            c.failText_ =
                std::string("resolve ") + tcp->addr + ": " + e.what();  // no resolver thread, no memory
            c.close(AmpeStatus::processing_failed);
        }
    }
}

Connector::Connector(Loop& loop, MchnGroup& g, ChannelNumber cn, std::uint32_t gen, Message* hello) noexcept
    : Channel(loop, g, cn, gen, hello->bhdr.message_id), out_(&loop.pool()) {
    out_.add(hello, false);  // the Hello is the first frame on the wire
}

void Connector::onResolved(Resolver::Result& r) {
    if (state_ != State::resolving) {
        return;
    }
    if (r.status != AmpeStatus::success || r.endpoints.empty()) {
        failText_ = std::move(r.why);
        close(AmpeStatus::invalid_address);
        return;
    }
    endpoints_ = std::move(r.endpoints);
    connectNext();
}

void Connector::connectNext() {
    while (next_ < endpoints_.size()) {
        const Endpoint& ep = endpoints_[next_++];
        UniqueFd fd;
        bool inProgress = false;
        bool busy = false;
        const AmpeStatus st =
            startConnect(ep, fd, inProgress, loop_.liveness().optionMs(), &busy, &failText_);
        const auto now = std::chrono::steady_clock::now();
        if (busy && now < deadline_) {
            // A UDS listener with a full backlog: the same address again a little later.
            retryDelay_ =
                std::clamp(retryDelay_ * 2, std::chrono::milliseconds(2), std::chrono::milliseconds(100));
            --next_;
            state_ = State::retrying;
            retryAt_ = now + retryDelay_;
            loop_.schedule(*this, retryAt_);
            return;
        }
        if (st != AmpeStatus::success) {
            lastStatus_ = st;
            continue;
        }
        fd_ = std::move(fd);
        state_ = State::connecting;
        if (!watch(inProgress ? PollEvents::Out : PollEvents::In)) {
            return;
        }
        if (!inProgress) {
            connected();
        }
        return;
    }
    close(lastStatus_);
}

// Two timers: the connect deadline, and (retrying) the next try.
void Connector::onTimer() {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline_) {
        failText_ = "connect to " + target_ + ": no connection within " +
                    std::to_string(loop_.connectTimeout().count()) + " ms (Options::connectTimeoutMs)";
        close(AmpeStatus::connect_failed);
        return;
    }
    if (state_ == State::retrying && now >= retryAt_) {
        connectNext();
    }
}

void Connector::onEvent(std::uint32_t events) {
    if (state_ != State::connecting ||
        (events & (PollEvents::Out | PollEvents::Err | PollEvents::Hup)) == 0) {
        return;
    }
    const Endpoint* ep = next_ > 0 ? &endpoints_[next_ - 1] : nullptr;
    if (finishConnect(fd_.get(), &failText_, ep) == AmpeStatus::success) {
        connected();
        return;
    }
    unwatch();
    fd_.reset();
    lastStatus_ = AmpeStatus::connect_failed;
    connectNext();
}

// A Connection takes this channel's place (same number and token) with the socket and the queue.
void Connector::connected() {
    std::unique_ptr<Connection> conn;
    try {
        conn = std::make_unique<Connection>(loop_, *group_, number(), 0, openMid_, fd_, out_);
    } catch (const std::bad_alloc&) {
        close(AmpeStatus::allocation_failed);
        return;
    }
    Connection& c = *conn;
    loop_.cancelTimers(*this);  // the connect deadline: met
    loop_.replace(*this, std::move(conn));
    c.start();
}

// While connecting, messages queue behind the Hello (oob ones too, never in front of it).
void Connector::submit(Message* m) {
    const bool bye = m->bhdr.proto.mtype == MessageType::bye;
    if (bye && m->bhdr.proto.role == MessageRole::signal && m->bhdr.proto.oob == Oob::on) {
        // Close now: the bye comes back first (channel_closed), then the rest, then the close notice.
        out_.addFront(m);
        close(AmpeStatus::channel_closed);
        return;
    }
    if (m->bhdr.proto.mtype == MessageType::hello) {
        loop_.delivery().bounce(*group_, m, AmpeStatus::not_allowed);  // a client never answers a Hello
        return;
    }
    if (out_.wouldExceed(*m, loop_.maxSendQueueBytes())) {
        EngineCounters::add(loop_.counters().sendRefused);
        loop_.delivery().bounce(*group_, m, AmpeStatus::send_failed);
        return;
    }
    out_.add(m, false);
}

void Connector::describe(ChannelStats& out) const {
    switch (state_) {
        case State::resolving:
            out.state = "resolving";
            break;
        case State::connecting:
            out.state = "connecting";
            break;
        case State::retrying:
            out.state = "retrying";
            break;
    }
    out.address = printable(target_);
    out.queuedMessages = out_.count();
    out.queuedBytes = out_.queuedBytes();
}

std::uint32_t Connector::interest() const noexcept {
    return PollEvents::Out;
}

IntrusiveQueue<Message> Connector::takeUnsent() noexcept {
    IntrusiveQueue<Message> unsent = out_.takeAll();
    for (Message* m = unsent.front(); m != nullptr; m = MessageLinks::next(*m)) {
        if (m->bhdr.proto.mtype == MessageType::hello) {
            m->bhdr.proto.role = MessageRole::response;  // the failed Hello answers itself
            explain(*m, failText_);
        }
    }
    return unsent;
}

}  // namespace tofu::detail
