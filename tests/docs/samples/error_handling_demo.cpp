// Sample for docs/guide/error-handling.md: refusals (exceptions), failed listeners, bounded retries.
#include <chrono>
#include <optional>
#include <system_error>

#include "sample_support.hpp"

namespace {

// --8<-- [start:refused]
bool sendOrKeep(tofu::ChannelGroup& chnls, tofu::MessagePtr& msg) {
    try {
        chnls.enqueueToPeer(msg);  // on success msg is empty: the engine owns the message
        return true;
    } catch (const tofu::AmpeError& e) {
        // Refused before anything happened; msg is still ours and bhdr.status holds the reason.
        fmt::print(stderr, "refused: {}\n", e.status());
        return false;
    }
}
// --8<-- [end:refused]

// --8<-- [start:refused-ec]
bool sendOrKeepNoThrow(tofu::ChannelGroup& chnls, tofu::MessagePtr& msg) {
    std::error_code ec;
    chnls.enqueueToPeer(msg, ec);  // the same refusals, reported in ec instead of thrown
    if (ec) {
        fmt::print(stderr, "refused: {}\n", ec.message());  // ec == tofu::AmpeStatus::invalid_message_mode...
    }
    return !ec;
}
// --8<-- [end:refused-ec]

// --8<-- [start:listen]
tofu::AmpeStatus listen(tofu::Ampe& ampe, tofu::ChannelGroup& chnls, const tofu::Configurator& where) {
    tofu::MessagePtr welcome = ampe.get(tofu::AllocationStrategy::always);
    where.prepareRequest(*welcome);
    chnls.enqueueToPeer(welcome);
    tofu::MessagePtr answer = chnls.waitReceive(std::chrono::seconds(5));
    if (!answer) {
        return tofu::AmpeStatus::processing_failed;
    }
    // success; or, from the engine, listen_failed (address in use), invalid_address (not ours)...
    return answer->status();  // tofu::raw_to_status(answer->bhdr.status)
}
// --8<-- [end:listen]

// --8<-- [start:retry]
/// Says Hello up to `attempts` times; the channel of the accepted Hello, or nullopt.
std::optional<tofu::ChannelNumber> connectWithRetry(tofu::Ampe& ampe, tofu::ChannelGroup& chnls,
                                                    const tofu::Configurator& server, int attempts) {
    for (int i = 0; i < attempts; ++i) {
        tofu::MessagePtr hello = ampe.get(tofu::AllocationStrategy::always);
        server.prepareRequest(*hello);
        const tofu::ChannelNumber ch = chnls.enqueueToPeer(hello).channel_number;
        for (;;) {
            tofu::MessagePtr msg = chnls.waitReceive(std::chrono::seconds(5));
            if (!msg) {
                return std::nullopt;  // no answer at all: the caller decides
            }
            if (msg->channel() != ch) {
                continue;  // not about this attempt (a real client would handle it)
            }
            if (msg->type() == tofu::MessageType::hello && !msg->isReturned()) {
                return ch;  // the HelloResponse
            }
            if (msg->isCloseNotice()) {
                break;  // our Hello came back (or the server said bye): try again, after a pause in real life
            }
        }
    }
    return std::nullopt;
}
// --8<-- [end:retry]

}  // namespace

int main() {
    try {
        std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create();
        tofu::Ampe& ampe = reactor->ampe();
        tofu::Group chnls = ampe.createGroup();
        tofu::Group other = ampe.createGroup();

        tofu::MessagePtr noRole = ampe.get(tofu::AllocationStrategy::always);
        bool ok = samples::expect(!sendOrKeep(*chnls, noRole) && noRole != nullptr, "refused and kept");
        ok = samples::expect(noRole->status() == tofu::AmpeStatus::invalid_message_mode,
                             "reason in the header") &&
             ok;
        ok = samples::expect(!sendOrKeepNoThrow(*chnls, noRole) && noRole != nullptr, "refused through ec") &&
             ok;

        const std::uint16_t port = tofu::findFreeTcpPort();
        const tofu::TCPServerConfigurator where("127.0.0.1", port);
        ok =
            samples::expect(listen(ampe, *chnls, where) == tofu::AmpeStatus::success, "first listener") && ok;
        const tofu::AmpeStatus second = listen(ampe, *other, where);
        fmt::print("second listener on port {}: {}\n", port, second);
        ok = samples::expect(second == tofu::AmpeStatus::listen_failed, "second listener fails") && ok;

        const std::string nowhere = tofu::tempUdsPath();  // no listener there
        const std::optional<tofu::ChannelNumber> ch =
            connectWithRetry(ampe, *other, tofu::UDSClientConfigurator(nowhere), 3);
        ok = samples::expect(!ch.has_value(), "nobody answers") && ok;
        return ok ? 0 : 1;
    } catch (const tofu::AmpeError& e) {
        fmt::print(stderr, "error_handling_demo: {}\n", e.what());
        return 1;
    }
}
