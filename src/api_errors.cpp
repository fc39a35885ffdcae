// The std::error_code forms of the throwing calls (asio style): each runs the throwing call and turns
// what it throws into an error_code of tofu_category().
#include <new>
#include <system_error>

#include "tofu/ampe.hpp"

namespace tofu {

namespace {

// Runs f; returns the code of what it threw (cleared when nothing was thrown).
template <class F>
std::error_code capture(F&& f) noexcept {
    try {
        f();
        return {};
    } catch (const std::system_error& e) {  // AmpeError among them
        return e.code();
    } catch (const std::bad_alloc&) {
        return make_error_code(AmpeStatus::allocation_failed);
    } catch (...) {
        return make_error_code(AmpeStatus::processing_failed);
    }
}

// The status byte for ec: its AmpeStatus when it is one of ours, unknown_error otherwise.
std::uint8_t rawOf(const std::error_code& ec) noexcept {
    return ec.category() == tofu_category() ? static_cast<std::uint8_t>(ec.value())
                                            : status_to_raw(AmpeStatus::unknown_error);
}

}  // namespace

BinaryHeader ChannelGroup::enqueueToPeer(MessagePtr& msg, std::error_code& ec) noexcept {
    BinaryHeader sent{};
    ec = capture([&] { sent = enqueueToPeer(msg); });
    if (ec) {
        sent = BinaryHeader{};
        sent.status = rawOf(ec);
    }
    return sent;
}

MessagePtr ChannelGroup::waitReceive(std::uint64_t timeout_ns, std::error_code& ec) noexcept {
    MessagePtr msg;
    ec = capture([&] { msg = waitReceive(timeout_ns); });
    return msg;
}

void ChannelGroup::updateReceiver(MessagePtr& msg, std::error_code& ec) noexcept {
    ec = capture([&] { updateReceiver(msg); });
}

MessagePtr Ampe::get(AllocationStrategy strategy, std::error_code& ec) noexcept {
    MessagePtr msg;
    ec = capture([&] { msg = get(strategy); });
    if (!ec && !msg) {
        ec = AmpeStatus::pool_empty;  // poolOnly and nothing pooled: no message, and ec says so
    }
    return msg;
}

void Ampe::destroy(ChannelGroup* group, std::error_code& ec) noexcept {
    ec = capture([&] { destroy(group); });
}

}  // namespace tofu
