// Client: a reconnecting connection and thread-safe request/response calls, built on the public API only.
#include "tofu/client.hpp"

#include <algorithm>
#include <utility>

namespace tofu {

struct Client::Pending {
    ChannelNumber channel = 0;
    bool done = false;
    AmpeStatus status = AmpeStatus::success;
    MessagePtr response;
};

namespace {
// now + timeout without overflow: a timeout beyond ~100 years means for ever.
std::chrono::steady_clock::time_point deadlineAfter(std::chrono::milliseconds timeout) noexcept {
    const auto now = std::chrono::steady_clock::now();
    constexpr auto Forever = std::chrono::hours(24 * 365 * 100);
    if (timeout >= Forever) {
        return now + Forever;
    }
    return now + timeout;
}

Configurator clientOnly(Configurator cfg) {
    if (cfg.get_if<TCPServerConfigurator>() != nullptr || cfg.get_if<UDSServerConfigurator>() != nullptr) {
        throw AmpeError(
            AmpeStatus::wrong_configuration,
            "tofu::Client needs a TCPClientConfigurator or UDSClientConfigurator, not a server's");
    }
    return cfg;
}
}  // namespace

Client::Client(Ampe& ampe, Configurator server, ClientOptions options)
    : group_(ampe.createGroup()), server_(clientOnly(std::move(server))), options_(std::move(options)) {
    thread_ = std::thread([this] { run(); });
}

Client::~Client() {
    close();
}

ChannelNumber Client::waitConnected(std::chrono::milliseconds timeout) {
    std::unique_lock lk(mu_);
    cv_.wait_until(lk, deadlineAfter(timeout),
                   [this] { return channel_ != 0 || gaveUp_ || closing_ || stopped_; });
    return channel_;
}

ChannelNumber Client::channel() const {
    const std::lock_guard lk(mu_);
    return channel_;
}

bool Client::gaveUp() const {
    const std::lock_guard lk(mu_);
    return gaveUp_;
}

MessagePtr Client::call(std::string_view body, std::chrono::milliseconds timeout) {
    return call(ampe().request(0, body), timeout);
}

MessagePtr Client::call(MessagePtr request, std::chrono::milliseconds timeout) {
    std::error_code ec;
    MessagePtr response = call(std::move(request), timeout, ec);
    if (ec) {
        const auto st = static_cast<AmpeStatus>(ec.value());
        throw AmpeError(st, st == AmpeStatus::communication_failed
                                ? "call: no response within " + std::to_string(timeout.count()) + " ms"
                                : std::string("call failed"));
    }
    return response;
}

MessagePtr Client::call(MessagePtr request, std::chrono::milliseconds timeout, std::error_code& ec) noexcept {
    try {
        if (!request) {
            ec = AmpeStatus::null_message;
            return {};
        }
        const auto deadline = deadlineAfter(timeout);
        std::unique_lock lk(mu_);
        cv_.wait_until(lk, deadline, [this] { return channel_ != 0 || gaveUp_ || closing_ || stopped_; });
        if (closing_ || stopped_) {
            ec = AmpeStatus::shutdown_started;
            return {};
        }
        if (channel_ == 0) {
            ec = gaveUp_ ? AmpeStatus::connect_failed : AmpeStatus::communication_failed;
            return {};
        }
        // Registered before it is sent: the response cannot overtake the registration.
        Pending p;
        p.channel = channel_;
        request->bhdr.channel_number = p.channel;
        request->bhdr.proto.role = MessageRole::request;
        const MessageID id = Message::next_mid();
        request->bhdr.message_id = id;
        pending_[id] = &p;
        lk.unlock();
        std::error_code sendEc;
        group_->enqueueToPeer(request, sendEc);
        lk.lock();
        if (sendEc) {
            if (!p.done) {
                pending_.erase(id);
            }
            ec = sendEc;
            return {};
        }
        cv_.wait_until(lk, deadline, [&p] { return p.done; });
        if (!p.done) {
            pending_.erase(id);  // a response arriving later finds nobody and is dropped
            ec = AmpeStatus::communication_failed;
            return {};
        }
        if (p.status != AmpeStatus::success) {
            ec = p.status;
            return {};
        }
        ec.clear();
        return std::move(p.response);
    } catch (...) {
        ec = AmpeStatus::allocation_failed;  // the only thing that can throw here: memory
        return {};
    }
}

void Client::close(std::chrono::milliseconds timeout) {
    ChannelNumber ch = 0;
    {
        const std::lock_guard lk(mu_);
        if (closing_) {
            return;
        }
        closing_ = true;
        failAllPending(AmpeStatus::shutdown_started);
        ch = channel_;
        cv_.notify_all();
    }
    if (ch != 0) {
        std::error_code ec;
        try {
            group_->enqueueToPeer(ampe().byeRequest(ch), ec);
        } catch (...) {
            ec = AmpeStatus::allocation_failed;
        }
        if (!ec) {  // the ByeResponse, then the close notice: channel_ becomes 0
            std::unique_lock lk(mu_);
            cv_.wait_for(lk, timeout, [this] { return channel_ == 0 || stopped_; });
        }
    }
    stop_ = true;
    std::error_code ec;
    group_->updateReceiver(ec);  // wakes the loop
    if (thread_.joinable()) {
        thread_.join();
    }
}

void Client::sayHello() {
    try {
        MessagePtr hello = ampe().get(AllocationStrategy::always);
        server_.prepareRequest(*hello);
        const ChannelNumber ch = group_->enqueueToPeer(hello).channel_number;
        const std::lock_guard lk(mu_);
        helloCh_ = ch;
    } catch (const AmpeError& e) {
        if (e.status() == AmpeStatus::shutdown_started) {
            throw;
        }
        const std::lock_guard lk(mu_);  // an unusable configuration: no point in trying again
        gaveUp_ = true;
        failAllPending(AmpeStatus::connect_failed);
        cv_.notify_all();
    }
}

void Client::run() noexcept {
    try {
        while (!stop_) {
            std::uint64_t wait = waitReceive_INFINITE_TIMEOUT;
            bool helloNow = false;
            {
                const std::lock_guard lk(mu_);
                if (channel_ == 0 && helloCh_ == 0 && !gaveUp_ && !closing_) {
                    const auto now = std::chrono::steady_clock::now();
                    helloNow = now >= nextAttempt_;
                    wait = ChannelGroup::toTimeoutNs(nextAttempt_ - now);
                }
            }
            if (helloNow) {
                sayHello();
                continue;
            }
            MessagePtr m = group_->waitReceive(wait);
            if (m) {
                handle(m);
            }
        }
    } catch (...) {  // the group or the engine is going away
    }
    const std::lock_guard lk(mu_);
    stopped_ = true;
    channel_ = 0;
    failAllPending(AmpeStatus::shutdown_started);
    cv_.notify_all();
}

void Client::handle(MessagePtr& m) {
    if (m->isEngineSignal() && !m->isCloseNotice()) {
        return;  // pool_empty, or the wake-up of close()
    }
    const ChannelNumber ch = m->channel();
    std::unique_lock lk(mu_);
    if (helloCh_ != 0 && ch == helloCh_) {
        onHandshake(m, lk);
    } else if (channel_ == 0 || ch != channel_ || !onChannel(m, lk)) {
        completeCall(m);
    }
}

// What comes back for our Hello: the HelloResponse (connected) or, once it failed, its close notice.
void Client::onHandshake(MessagePtr& m, std::unique_lock<std::mutex>& lk) {
    const ChannelNumber ch = m->channel();
    if (!m->fromEngine() && m->is(ValidCombination::HelloResponse) && m->ok()) {
        channel_ = ch;
        helloCh_ = 0;
        failures_ = 0;
        backoff_ = std::chrono::milliseconds(0);
        cv_.notify_all();
        lk.unlock();
        if (options_.onConnected) {
            options_.onConnected(ch);
        }
        return;
    }
    if (!m->isCloseNotice()) {
        return;  // the Hello itself, returned: its close notice follows
    }
    helloCh_ = 0;  // the Hello failed: retry later, or give up
    ++failures_;
    if (options_.maxAttempts != 0 && failures_ >= options_.maxAttempts) {
        gaveUp_ = true;
        failAllPending(AmpeStatus::connect_failed);
        cv_.notify_all();
        return;
    }
    backoff_ = backoff_.count() == 0 ? options_.initialBackoff : std::min(backoff_ * 2, options_.maxBackoff);
    nextAttempt_ = std::chrono::steady_clock::now() + backoff_;
}

// On the connected channel: its close, the server's bye, or a message the server sent of its own accord.
// False for a response (or a returned request): completeCall() takes it.
bool Client::onChannel(MessagePtr& m, std::unique_lock<std::mutex>& lk) {
    const ChannelNumber ch = m->channel();
    if (m->isCloseNotice()) {
        channel_ = 0;
        failPending(ch, AmpeStatus::channel_closed);
        nextAttempt_ = std::chrono::steady_clock::now();  // reconnect at once, then back off
        cv_.notify_all();
        lk.unlock();
        if (options_.onDisconnected) {
            options_.onDisconnected(ch);
        }
        return true;
    }
    if (m->fromEngine() || m->is(ValidCombination::AppResponse)) {
        return false;
    }
    lk.unlock();
    if (m->is(ValidCombination::ByeRequest)) {  // the server leaves: agree
        std::error_code ec;
        m->asResponse();
        group_->enqueueToPeer(m, ec);
    } else if (options_.onMessage && !m->is(ValidCombination::ByeResponse)) {
        options_.onMessage(m);
    }
    return true;
}

// A response, or a request of ours returned unsent (also after its channel's close notice). Under mu_.
void Client::completeCall(MessagePtr& m) {
    const auto it = pending_.find(m->id());
    if (it == pending_.end() || (!m->fromEngine() && !m->is(ValidCombination::AppResponse))) {
        return;  // late: its call timed out or already failed
    }
    Pending& p = *it->second;
    p.done = true;
    if (m->isReturned()) {
        p.status = m->status() == AmpeStatus::success ? AmpeStatus::channel_closed : m->status();
    } else {
        p.response = std::move(m);
    }
    pending_.erase(it);
    cv_.notify_all();
}

void Client::failPending(ChannelNumber ch, AmpeStatus why) {
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->second->channel == ch) {
            it->second->done = true;
            it->second->status = why;
            it = pending_.erase(it);
        } else {
            ++it;
        }
    }
}

void Client::failAllPending(AmpeStatus why) {
    for (auto& [id, p] : pending_) {
        p->done = true;
        p->status = why;
    }
    pending_.clear();
}

}  // namespace tofu
