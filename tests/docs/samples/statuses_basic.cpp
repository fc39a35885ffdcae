// Sample for docs/guide/statuses.md: AmpeStatus, AmpeError and the byte in the binary header.
#include <fmt/format.h>

#include <system_error>
#include <tofu/tofu.hpp>

namespace {

// --8<-- [start:byte]
void showStatus(const tofu::Message& msg) {
    const tofu::AmpeStatus st = tofu::raw_to_status(msg.bhdr.status);  // one byte on the wire
    fmt::print("status {} ({})\n", tofu::statusName(st), static_cast<int>(msg.bhdr.status));
    fmt::print("status {}\n", st);  // <tofu/format.hpp> makes AmpeStatus printable with {fmt}
}
// --8<-- [end:byte]

// --8<-- [start:throw]
void requireSuccess(const tofu::Message& msg) {
    tofu::raw_to_error(msg.bhdr.status);  // throws AmpeError unless the byte is 0 (success)
}
// --8<-- [end:throw]

// --8<-- [start:catch]
tofu::AmpeStatus trySend(tofu::ChannelGroup& chnls, tofu::MessagePtr& msg) {
    try {
        chnls.enqueueToPeer(msg);
        return tofu::AmpeStatus::success;
    } catch (const tofu::AmpeError& e) {
        // A std::system_error: e.code() is a std::error_code in the "tofu" category,
        // e.status() the AmpeStatus. The message was refused, so msg still holds it.
        if (e.code() == tofu::AmpeStatus::invalid_message_mode) {
            fmt::print("a message needs a role: {}\n", e.code().message());
        }
        return e.status();
    }
}
// --8<-- [end:catch]

// --8<-- [start:context]
// A close notice is good news after our own bye and bad news in the middle of a conversation.
bool closedAsExpected(const tofu::Message& msg, bool weSaidBye) {
    return msg.isCloseNotice() && weSaidBye;  // status channel_closed, but not one of ours sent back
}
// --8<-- [end:context]

}  // namespace

int main() {
    try {
        std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create();
        tofu::Ampe& ampe = reactor->ampe();
        tofu::DestroyChannels chnls(ampe);

        tofu::MessagePtr msg = ampe.get(tofu::AllocationStrategy::always);  // no type or role yet
        const tofu::AmpeStatus st = trySend(*chnls, msg);
        showStatus(*msg);  // the refusal is written into the header as well

        bool thrown = false;
        try {
            requireSuccess(*msg);
        } catch (const std::system_error& e) {  // catchable as any std::system_error
            thrown = e.code() == tofu::make_error_code(tofu::AmpeStatus::invalid_message_mode);
        }
        const bool ok = st == tofu::AmpeStatus::invalid_message_mode && msg != nullptr && thrown &&
                        !closedAsExpected(*msg, true);
        return ok ? 0 : 1;
    } catch (const tofu::AmpeError& e) {
        fmt::print(stderr, "statuses_basic: {}\n", e.what());
        return 1;
    }
}
