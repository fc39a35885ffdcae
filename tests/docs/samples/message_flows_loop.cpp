// Sample for docs/guide/message-flows.md: the shape of a receive loop (a fragment: compiled, not run).
#include <fmt/format.h>

#include <atomic>
#include <set>
#include <tofu/tofu.hpp>

namespace samples::message_flows {

struct Peer {
    tofu::Ampe& ampe;
    tofu::ChannelGroup& chnls;
    std::set<tofu::ChannelNumber> channels;

    void onEngineNews(tofu::MessagePtr& msg);
    void onPeerMessage(tofu::MessagePtr& msg);
    void housekeeping() {}
};

// --8<-- [start:loop]
void receiveLoop(Peer& peer, const std::atomic<bool>& running) {
    while (running) {
        tofu::MessagePtr msg = peer.chnls.waitReceive(tofu::waitReceive_SEC_TIMEOUT);
        if (!msg) {
            peer.housekeeping();  // a timeout: nothing arrived within a second
            continue;
        }
        if (msg->bhdr.proto.origin == tofu::OriginFlag::engine) {  // shorthand: msg->fromEngine()
            peer.onEngineNews(msg);  // origin first: engine news is not a peer's message
        } else {
            peer.onPeerMessage(msg);
        }
    }  // whatever msg still holds goes back to the pool here
}
// --8<-- [end:loop]

// --8<-- [start:news]
void Peer::onEngineNews(tofu::MessagePtr& msg) {
    const tofu::BinaryHeader& bh = msg->bhdr;
    if (msg->isCloseNotice()) {
        channels.erase(bh.channel_number);  // the channel's last word
        return;
    }
    if (msg->isReturned()) {
        // one of our own messages came back unsent (even after its channel's close notice): status says why
        fmt::print(stderr, "channel {}: {} returned with {}\n", bh.channel_number, bh.proto.mtype,
                   tofu::raw_to_status(bh.status));
        return;
    }
    switch (tofu::raw_to_status(bh.status)) {  // shorthand: msg->status()
        case tofu::AmpeStatus::pool_empty:
            break;  // msg itself goes back to the pool when this returns, which already helps
        default:
            break;  // receiver_update: another thread woke us: look at our own flags
    }
}
// --8<-- [end:news]

// --8<-- [start:peer]
void Peer::onPeerMessage(tofu::MessagePtr& msg) {
    tofu::BinaryHeader& bh = msg->bhdr;
    if (bh.proto.role != tofu::MessageRole::request) {
        return;  // responses and signals: the application's business
    }
    switch (bh.proto.mtype) {
        case tofu::MessageType::hello:
            channels.insert(bh.channel_number);  // a new peer; answering accepts it
            break;
        case tofu::MessageType::bye:
            break;  // the peer is leaving; answering lets it go
        default:
            break;  // compute the answer into msg->body here
    }
    bh.proto.role = tofu::MessageRole::response;  // same message back: same channel, same id
    chnls.enqueueToPeer(msg);                     // shorthand for the line above: msg->asResponse()
}
// --8<-- [end:peer]

}  // namespace samples::message_flows
