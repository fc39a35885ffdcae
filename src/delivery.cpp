#include "delivery.hpp"

#include <algorithm>

#include "mchn_group.hpp"
#include "message_mark.hpp"

namespace tofu::detail {

void releaseMessage(Message* m) noexcept {
    if (m != nullptr) {
        MessageLinks::ctx(*m) = nullptr;
        MessageDeleter{}(m);
    }
}

void releaseAll(IntrusiveQueue<Message>&& q) noexcept {
    while (Message* m = q.dequeue()) {
        releaseMessage(m);
    }
}

Message* makeSignal(PoolCore& pool, AmpeStatus st, ChannelNumber cn, MessageID mid) {
    // pool_empty comes when the pool is dry: a message of the pool's own would refill it when the application
    // drops the notice, and let one more message in per pause however many the application holds. Outside
    // the pool it is freed instead, and the pool's limit holds.
    Message* m = st == AmpeStatus::pool_empty ? Message::create(pool.resource()).release()
                                              : pool.get(AllocationStrategy::always);
    m->bhdr.proto.mtype = MessageType::regular;
    m->bhdr.proto.role = MessageRole::signal;
    m->bhdr.proto.origin = OriginFlag::engine;
    m->bhdr.status = status_to_raw(st);
    m->bhdr.channel_number = cn;
    m->bhdr.message_id = mid;
    MessageMark::engineSignal(*m);
    return m;
}

void Delivery::deliver(MchnGroup& g, Message* m) noexcept {
    MessageLinks::ctx(*m) = nullptr;
    g.outbox.enqueue(m);
    if (!g.dirty) {
        g.dirty = true;
        dirty_.push_back(&g);
    }
}

void Delivery::bounce(MchnGroup& g, Message* m, AmpeStatus st) noexcept {
    MessageMark::returned(*m);
    m->bhdr.proto.origin = OriginFlag::engine;
    m->bhdr.status = status_to_raw(st);
    deliver(g, m);
}

void Delivery::signal(MchnGroup& g, AmpeStatus st, ChannelNumber cn, MessageID mid) noexcept {
    try {
        deliver(g, makeSignal(pool_, st, cn, mid));
    } catch (...) {
        // The pool is closed or memory is out: the application learns it from its next call.
    }
}

void Delivery::flush() noexcept {
    for (MchnGroup* g : dirty_) {
        g->dirty = false;
        if (!g->mailbox.pushAll(g->outbox)) {
            releaseAll(std::move(g->outbox));
        }
    }
    dirty_.clear();
}

void Delivery::forget(MchnGroup& g) noexcept {
    if (g.dirty) {
        dirty_.erase(std::remove(dirty_.begin(), dirty_.end(), &g), dirty_.end());
        g.dirty = false;
    }
    releaseAll(std::move(g.outbox));
}

void Delivery::discardAll() noexcept {
    for (MchnGroup* g : dirty_) {
        releaseAll(std::move(g->outbox));
        g->dirty = false;
    }
    dirty_.clear();
}

}  // namespace tofu::detail
