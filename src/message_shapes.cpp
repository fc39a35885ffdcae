// Message shapes: the common kinds of message built in one call (requests, signals, byes, responses).
#include <string_view>

#include "tofu/message.hpp"

namespace tofu {

namespace {

// Clears what a shape sets afresh; keeps the capacities and the application's `user` pointer.
Message& fresh(Message& m, MessageType mt, MessageRole role, ChannelNumber ch) noexcept {
    m.bhdr.clean();
    m.bhdr.proto.mtype = mt;
    m.bhdr.proto.role = role;
    m.bhdr.channel_number = ch;
    m.thdrs.reset();
    m.body.reset();
    return m;
}

void requireRequestFromPeer(const Message& m) {
    if (m.bhdr.proto.origin != OriginFlag::application || m.bhdr.proto.role != MessageRole::request ||
        m.bhdr.proto.mtype == MessageType::welcome) {  // the engine answers a Welcome, not the peer
        throw AmpeError(AmpeStatus::not_allowed, "asResponse: not a request from a peer");
    }
}

std::span<const std::uint8_t> bytesOf(std::string_view s) noexcept {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

Message& Message::asRequest(ChannelNumber ch, std::string_view b) {
    return asRequest(ch, bytesOf(b));
}

Message& Message::asRequest(ChannelNumber ch, std::span<const std::uint8_t> b) {
    fresh(*this, MessageType::regular, MessageRole::request, ch).body.assign(b);
    return *this;
}

Message& Message::asSignal(ChannelNumber ch, std::string_view b) {
    return asSignal(ch, bytesOf(b));
}

Message& Message::asSignal(ChannelNumber ch, std::span<const std::uint8_t> b) {
    fresh(*this, MessageType::regular, MessageRole::signal, ch).body.assign(b);
    return *this;
}

Message& Message::asByeRequest(ChannelNumber ch) {
    return fresh(*this, MessageType::bye, MessageRole::request, ch);
}

Message& Message::asByeSignal(ChannelNumber ch, Oob oob) {
    fresh(*this, MessageType::bye, MessageRole::signal, ch).bhdr.proto.oob = oob;
    return *this;
}

Message& Message::asResponse() {
    requireRequestFromPeer(*this);
    bhdr.proto.role = MessageRole::response;
    return *this;
}

Message& Message::asResponse(std::string_view b) {
    requireRequestFromPeer(*this);
    bhdr.proto.role = MessageRole::response;
    body.assign(b);
    return *this;
}

Message& Message::asResponse(std::span<const std::uint8_t> b) {
    requireRequestFromPeer(*this);
    bhdr.proto.role = MessageRole::response;
    body.assign(b);
    return *this;
}

}  // namespace tofu
