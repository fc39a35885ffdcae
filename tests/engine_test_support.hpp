// Shared helpers for engine tests: bounded waits and the Welcome/Hello handshake.
#pragma once

#include <catch2/catch.hpp>
#include <string>
#include <string_view>

#include "tofu/tofu.hpp"

namespace tofu::testing {

inline constexpr std::uint64_t DefaultWaitSec = 10;

struct Connection {
    ChannelNumber clientCn = 0;
    ChannelNumber serverCn = 0;
};

inline ValidCombination vcOf(const Message& m) {
    const std::optional<ValidCombination> vc = toValidCombination(m.bhdr.proto.mtype, m.bhdr.proto.role);
    REQUIRE(vc.has_value());
    return *vc;
}

inline AmpeStatus statusOf(const Message& m) {
    return raw_to_status(m.bhdr.status);
}

inline std::string_view bodyText(const Message& m) {
    return std::string_view(reinterpret_cast<const char*>(m.body.data()), m.body.size());
}

inline std::string describe(const Message& m) {
    return "type=" + std::to_string(static_cast<int>(m.bhdr.proto.mtype)) +
           " role=" + std::to_string(static_cast<int>(m.bhdr.proto.role)) +
           " origin=" + std::to_string(static_cast<int>(m.bhdr.proto.origin)) +
           " status=" + std::string(statusName(statusOf(m))) +
           " ch=" + std::to_string(m.bhdr.channel_number) + " id=" + std::to_string(m.bhdr.message_id);
}

/// The next message of g; fails the test when none comes within `seconds`.
inline MessagePtr expectMessage(ChannelGroup& g, std::uint64_t seconds = DefaultWaitSec) {
    MessagePtr m = g.waitReceive(seconds * waitReceive_SEC_TIMEOUT);
    REQUIRE(m);
    return m;
}

inline bool isClosedSignal(const Message& m, ChannelNumber cn) {
    return m.bhdr.proto.mtype == MessageType::regular && m.bhdr.proto.role == MessageRole::signal &&
           m.bhdr.proto.origin == OriginFlag::engine && statusOf(m) == AmpeStatus::channel_closed &&
           m.bhdr.channel_number == cn;
}

/// Skips messages the engine returns for cn (unsent ones) until cn's channel_closed signal arrives.
inline void expectClosedSignal(ChannelGroup& g, ChannelNumber cn) {
    for (;;) {
        MessagePtr m = expectMessage(g);
        if (isClosedSignal(*m, cn)) {
            return;
        }
        INFO("while waiting for channel_closed of " << cn << ": " << describe(*m));
        REQUIRE((m->bhdr.proto.origin == OriginFlag::engine && m->bhdr.channel_number == cn));
    }
}

inline MessagePtr appMessage(Ampe& ampe, MessageRole role, ChannelNumber cn, std::string_view text) {
    MessagePtr m = ampe.get(AllocationStrategy::always);
    m->bhdr.proto.mtype = MessageType::regular;
    m->bhdr.proto.role = role;
    m->bhdr.channel_number = cn;
    m->body.assign(text);
    return m;
}

/// WelcomeRequest on g; requires a successful WelcomeResponse; returns the listener's channel.
inline ChannelNumber startListener(Ampe& ampe, ChannelGroup& g, const Configurator& cfg) {
    MessagePtr welcome = ampe.get(AllocationStrategy::always);
    cfg.prepareRequest(*welcome);
    const BinaryHeader sent = g.enqueueToPeer(welcome);
    REQUIRE(sent.channel_number != 0);
    MessagePtr resp = expectMessage(g);
    INFO(describe(*resp));
    REQUIRE(resp->bhdr.proto.mtype == MessageType::welcome);
    REQUIRE(resp->bhdr.proto.role == MessageRole::response);
    REQUIRE(statusOf(*resp) == AmpeStatus::success);
    REQUIRE(resp->bhdr.channel_number == sent.channel_number);
    REQUIRE(resp->bhdr.message_id == sent.message_id);
    return sent.channel_number;
}

/// Hello from cli, HelloRequest received and answered on srv, HelloResponse received on cli.
inline Connection connect(Ampe& ampe, ChannelGroup& srv, ChannelGroup& cli, const Configurator& cfg,
                          Ampe* clientAmpe = nullptr) {
    Ampe& ca = clientAmpe != nullptr ? *clientAmpe : ampe;
    MessagePtr hello = ca.get(AllocationStrategy::always);
    cfg.prepareRequest(*hello);
    const BinaryHeader sent = cli.enqueueToPeer(hello);
    Connection c;
    c.clientCn = sent.channel_number;
    MessagePtr req = expectMessage(srv);
    INFO(describe(*req));
    REQUIRE(toValidCombination(req->bhdr.proto.mtype, req->bhdr.proto.role) ==
            ValidCombination::HelloRequest);
    REQUIRE(req->bhdr.message_id == sent.message_id);
    REQUIRE(req->thdrs.find(ConnectToHeader).has_value());  // the client's configuration travels
    c.serverCn = req->bhdr.channel_number;
    req->bhdr.proto.role = MessageRole::response;
    srv.enqueueToPeer(req);
    MessagePtr resp = expectMessage(cli);
    INFO(describe(*resp));
    REQUIRE(toValidCombination(resp->bhdr.proto.mtype, resp->bhdr.proto.role) ==
            ValidCombination::HelloResponse);
    REQUIRE(resp->bhdr.message_id == sent.message_id);
    REQUIRE(resp->bhdr.channel_number == c.clientCn);
    REQUIRE(resp->bhdr.proto.origin == OriginFlag::application);
    return c;
}

}  // namespace tofu::testing
