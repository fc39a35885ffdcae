// ChannelGroup API: runs on application threads.
#include <thread>

#include "delivery.hpp"
#include "engine.hpp"
#include "message_mark.hpp"
#include "tofu/configurator.hpp"

namespace tofu::detail {

MchnGroup::Call::Call(MchnGroup& g, Kind kind) : counter_(kind == Kind::send ? g.sends_ : g.calls_) {
    // seq_cst pairs with shut(): either destroy() sees this call and waits for it, or this call sees
    // the group shut and leaves before touching anything else.
    counter_.fetch_add(1, std::memory_order_seq_cst);
    if (!g.open_.load(std::memory_order_seq_cst)) {
        counter_.fetch_sub(1, std::memory_order_release);
        throw AmpeError(AmpeStatus::shutdown_started, "channel group destroyed");
    }
}

namespace {
// Calls inside are short (a blocked waitReceive was woken by the mailbox's close).
void waitZero(const std::atomic<int>& n) noexcept {
    for (int spins = 0; n.load(std::memory_order_acquire) != 0; ++spins) {
        if (spins < 64) {
            std::this_thread::yield();
        } else {
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
    }
}
}  // namespace

void MchnGroup::waitSendsDone() const noexcept {
    waitZero(sends_);
}

void MchnGroup::waitCallsDone() const noexcept {
    waitZero(sends_);
    waitZero(calls_);
}

void MchnGroup::closeMailbox() noexcept {
    releaseAll(mailbox.close());
}

void MchnGroup::reopen(Reactor::Impl& engine) noexcept {
    engine_ = &engine;
    mailbox.reopen();
    dirty = false;
    channels.clear();
    open_.store(true, std::memory_order_seq_cst);
}

GroupShelf& GroupShelf::instance() {
    static GroupShelf shelf;
    return shelf;
}

std::unique_ptr<MchnGroup> GroupShelf::take() {
    std::lock_guard lock(mutex_);
    if (groups_.size() <= Kept) {
        return nullptr;
    }
    std::unique_ptr<MchnGroup> g = std::move(groups_.front());
    groups_.pop_front();
    return g;
}

void GroupShelf::put(std::unique_ptr<MchnGroup> g) {
    std::lock_guard lock(mutex_);
    groups_.push_back(std::move(g));
}

BinaryHeader MchnGroup::enqueueToPeer(MessagePtr& msg) {
    const Call call(*this, Call::Kind::send);
    if (!msg) {
        throw AmpeError(AmpeStatus::null_message, "enqueueToPeer: no message");
    }
    Message& m = *msg;
    const ValidCombination vc = m.check_and_prepare();  // throws; the caller keeps the message
    MessageMark::clear(m);                              // a returned message may be sent again

    auto fail = [&m](AmpeStatus st, const std::string& why) {
        m.bhdr.status = status_to_raw(st);
        throw AmpeError(st, why);
    };

    ChannelNumber allocated = 0;
    if (vc == ValidCombination::WelcomeRequest || vc == ValidCombination::HelloRequest) {
        (void)removeHeader(m, ErrorHeader);  // a failed request sent again: its old ~error stays home
        if (m.bhdr.channel_number != SpecialMinChannelNumber) {
            // a Welcome/Hello always opens a new channel
            fail(AmpeStatus::invalid_channel_number,
                 "a WelcomeRequest/HelloRequest opens a new channel: its channel number must be 0, not " +
                     std::to_string(m.bhdr.channel_number));
        }
        allocated = engine_->channels().allocate(this);
        if (allocated == 0) {
            fail(AmpeStatus::allocation_failed, "all 65534 channel numbers are in use");
        }
        m.bhdr.channel_number = allocated;
    } else {
        if (vc == ValidCombination::HelloResponse) {
            (void)removeHeader(m,
                               PeerAddressHeader);  // the engine's note to this side, not the peer's business
        }
        const AmpeStatus st = engine_->channels().check(m.bhdr.channel_number, this);
        if (st != AmpeStatus::success) {
            fail(st, "channel " + std::to_string(m.bhdr.channel_number) +
                         (st == AmpeStatus::invalid_mchn_group ? " belongs to another channel group"
                                                               : " is not open (closed, or never opened)"));
        }
    }

    const BinaryHeader sent = m.bhdr;
    MessageLinks::ctx(m) = this;
    if (!engine_->inbox().post(&m)) {
        MessageLinks::ctx(m) = nullptr;
        if (allocated != 0) {
            engine_->channels().remove(allocated);
            m.bhdr.channel_number = SpecialMinChannelNumber;
        }
        fail(AmpeStatus::shutdown_started, "the channel group is being destroyed or the engine is closing");
    }
    (void)msg.release();  // the engine owns it now
    return sent;
}

MessagePtr MchnGroup::waitReceive(std::uint64_t timeout_ns) {
    const Call call(*this);
    Message* m = nullptr;
    switch (mailbox.pop(timeout_ns, m)) {
        case Mailbox::Pop::message:
            return MessagePtr(m);
        case Mailbox::Pop::timeout:
            return {};
        case Mailbox::Pop::closed:
            break;
    }
    throw AmpeError(AmpeStatus::shutdown_started,
                    "waitReceive: the channel group was destroyed or the engine closed");
}

void MchnGroup::updateReceiver(MessagePtr& msg) {
    const Call call(*this);
    if (!msg) {
        Message* sig = makeSignal(engine_->pool(), AmpeStatus::receiver_update, 0, 0);
        if (!mailbox.push(sig)) {
            MessageDeleter{}(sig);
            throw AmpeError(AmpeStatus::shutdown_started, "updateReceiver: the channel group is closed");
        }
        return;
    }
    msg->bhdr.status = status_to_raw(AmpeStatus::receiver_update);
    msg->bhdr.proto.origin = OriginFlag::application;
    MessageMark::clear(*msg);
    if (!mailbox.push(msg.get())) {
        throw AmpeError(AmpeStatus::shutdown_started, "updateReceiver: the channel group is closed");
    }
    (void)msg.release();
}

}  // namespace tofu::detail
