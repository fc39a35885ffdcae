// Sample for docs/guide/error-handling.md: what to do with each kind of engine news (a fragment).
#include <fmt/format.h>

#include <set>
#include <tofu/tofu.hpp>

namespace samples::errors {

struct Tracker {
    std::set<tofu::ChannelNumber> channels;
    tofu::ChannelNumber server = 0;  // the channel our HelloRequest opened, 0 when none
    bool reconnect = false;
};

// --8<-- [start:engine]
void onEngineMessage(tofu::Ampe& ampe, const tofu::Message& msg, Tracker& t) {
    const tofu::AmpeStatus st = msg.status();  // tofu::raw_to_status(msg.bhdr.status)
    if (msg.isCloseNotice()) {  // not the header: a signal of ours returned with channel_closed looks alike
        t.channels.erase(msg.channel());  // the engine's last word about this channel
        if (msg.channel() == t.server) {
            t.server = 0;
            t.reconnect = true;  // send a new HelloRequest when it suits us
        }
        return;
    }
    if (msg.isReturned()) {  // one of our own messages, not sent; it may come even after the close notice
        if (msg.type() == tofu::MessageType::hello || msg.type() == tofu::MessageType::welcome) {
            // connect_failed, peer_disconnected, invalid_address, uds_path_not_found, listen_failed...:
            // the channel never opened; its close notice follows
            fmt::print(stderr, "{} on channel {} failed: {}\n", msg.type(), msg.channel(), st);
        } else {
            // send_failed, peer_disconnected, communication_failed, channel_closed, not_allowed...:
            // header and body say which message; resend it (origin set back to application) or give up
            fmt::print(stderr, "message {} on channel {} returned: {}\n", msg.id(), msg.channel(), st);
        }
        return;
    }
    if (st == tofu::AmpeStatus::pool_empty) {
        tofu::MessagePtr spare = tofu::Message::create(ampe.getAllocator());
        ampe.put(spare);  // grow the pool by one; msg itself goes back too
    }
    // receiver_update: a wake-up from another thread of ours
}
// --8<-- [end:engine]

}  // namespace samples::errors
