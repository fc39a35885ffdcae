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
    const tofu::BinaryHeader& bh = msg.bhdr;
    const tofu::AmpeStatus st = tofu::raw_to_status(bh.status);
    const bool closeSignal = bh.proto.mtype == tofu::MessageType::regular &&
                             bh.proto.role == tofu::MessageRole::signal &&
                             st == tofu::AmpeStatus::channel_closed;
    if (closeSignal) {
        t.channels.erase(bh.channel_number);  // the last message about this channel
        if (bh.channel_number == t.server) {
            t.server = 0;
            t.reconnect = true;  // send a new HelloRequest when it suits us
        }
        return;
    }
    switch (st) {
        case tofu::AmpeStatus::pool_empty: {
            tofu::MessagePtr spare = tofu::Message::create(ampe.getAllocator());
            ampe.put(spare);  // grow the pool by one; msg itself goes back too
            break;
        }
        case tofu::AmpeStatus::receiver_update:
            break;  // a wake-up from another thread of ours
        case tofu::AmpeStatus::connect_failed:
        case tofu::AmpeStatus::peer_disconnected:
        case tofu::AmpeStatus::invalid_address:
        case tofu::AmpeStatus::uds_path_not_found:
        case tofu::AmpeStatus::listen_failed:
            // our Hello (or Welcome) came back: the channel never opened; its close signal follows
            fmt::print(stderr, "{} on channel {} failed: {}\n", bh.proto.mtype, bh.channel_number, st);
            break;
        default:
            // send_failed, recv_failed, communication_failed, channel_closed, not_allowed...:
            // one of our messages was not sent; bh and the body say which one
            fmt::print(stderr, "message {} on channel {} returned: {}\n", bh.message_id, bh.channel_number,
                       st);
    }
}
// --8<-- [end:engine]

}  // namespace samples::errors
