// tofu: {fmt} formatters for statuses, message enums, binary headers, log levels and engine statistics.
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <string_view>

#include "tofu/message.hpp"
#include "tofu/options.hpp"
#include "tofu/stats.hpp"
#include "tofu/status.hpp"

namespace tofu::detail {
[[nodiscard]] constexpr std::string_view enumName(MessageType v) noexcept {
    constexpr std::string_view n[] = {"regular", "welcome", "hello", "bye"};
    return n[static_cast<unsigned>(v) & 3u];
}
[[nodiscard]] constexpr std::string_view enumName(MessageRole v) noexcept {
    constexpr std::string_view n[] = {"invalid", "request", "response", "signal"};
    return n[static_cast<unsigned>(v) & 3u];
}
[[nodiscard]] constexpr std::string_view enumName(OriginFlag v) noexcept {
    return v == OriginFlag::application ? "application" : "engine";
}
[[nodiscard]] constexpr std::string_view enumName(ValidCombination v) noexcept {
    constexpr std::string_view n[] = {"WelcomeRequest", "HelloRequest", "HelloResponse",
                                      "ByeRequest",     "ByeResponse",  "ByeSignal",
                                      "AppRequest",     "AppResponse",  "AppSignal"};
    const auto i = static_cast<unsigned>(v);
    return i < 9 ? n[i] : "invalid";
}
[[nodiscard]] constexpr std::string_view enumName(LogLevel v) noexcept {
    constexpr std::string_view n[] = {"debug", "info", "warning", "error"};
    const auto i = static_cast<unsigned>(v);
    return i < 4 ? n[i] : "invalid";
}
[[nodiscard]] constexpr std::string_view enumName(ChannelStats::Kind v) noexcept {
    constexpr std::string_view n[] = {"listener", "connector", "connection"};
    const auto i = static_cast<unsigned>(v);
    return i < 3 ? n[i] : "invalid";
}
}  // namespace tofu::detail

/// @cond INTERNAL
template <>
struct fmt::formatter<tofu::AmpeStatus> : fmt::formatter<std::string_view> {
    template <class Ctx>
    auto format(tofu::AmpeStatus v, Ctx& ctx) const {
        return fmt::formatter<std::string_view>::format(tofu::statusName(v), ctx);
    }
};

#define TOFU_ENUM_FORMATTER(T)                                                               \
    template <>                                                                              \
    struct fmt::formatter<T> : fmt::formatter<std::string_view> {                            \
        template <class Ctx>                                                                 \
        auto format(T v, Ctx& ctx) const {                                                   \
            return fmt::formatter<std::string_view>::format(tofu::detail::enumName(v), ctx); \
        }                                                                                    \
    };
TOFU_ENUM_FORMATTER(tofu::MessageType)
TOFU_ENUM_FORMATTER(tofu::MessageRole)
TOFU_ENUM_FORMATTER(tofu::OriginFlag)
TOFU_ENUM_FORMATTER(tofu::ValidCombination)
TOFU_ENUM_FORMATTER(tofu::LogLevel)
TOFU_ENUM_FORMATTER(tofu::ChannelStats::Kind)
#undef TOFU_ENUM_FORMATTER

/// "ch=4660 regular/request/application id=72623859790382856 thl=3 bl=5 status=success" (+ " more", " oob").
template <>
struct fmt::formatter<tofu::BinaryHeader> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
    template <class Ctx>
    auto format(const tofu::BinaryHeader& h, Ctx& ctx) const {
        typename Ctx::iterator out = fmt::format_to(
            ctx.out(), "ch={} {}/{}/{} id={} thl={} bl={} status={}", h.channel_number, h.proto.mtype,
            h.proto.role, h.proto.origin, h.message_id, h.thl, h.bl, tofu::raw_to_status(h.status));
        if (h.proto.more == tofu::MoreMessagesFlag::more) {
            out = fmt::format_to(out, " more");
        }
        if (h.proto.oob == tofu::Oob::on) {
            out = fmt::format_to(out, " oob");
        }
        return out;
    }
};
/// One line: "in 10 msgs 230 B, out 10 msgs 230 B, 1.00 frames/sendmsg; connections 2 opened, 1 closed (bye 1
/// peer 0 error 0 destroy 0), 0 dead peers; listeners 1 opened 0 closed 0 failed; 0 connects failed, 0 accept
/// back-offs; refused 0 sends 0 frames; 0 pool_empty pauses; pool 14 free of 64 (initial 16, high 16, 2
/// allocated)". With TOFU_STATS=OFF the traffic part reads "traffic not counted".
template <>
struct fmt::formatter<tofu::EngineStats> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
    template <class Ctx>
    auto format(const tofu::EngineStats& s, Ctx& ctx) const {
        typename Ctx::iterator out = ctx.out();
        if (s.traffic) {
            const double perCall =
                s.sendCalls == 0 ? 0.0 : static_cast<double>(s.sendFrames) / static_cast<double>(s.sendCalls);
            out = fmt::format_to(out, "in {} msgs {} B, out {} msgs {} B, {:.2f} frames/sendmsg; ",
                                 s.messagesIn, s.bytesIn, s.messagesOut, s.bytesOut, perCall);
        } else {
            out = fmt::format_to(out, "traffic not counted; ");
        }
        const std::uint64_t closed = s.closedBye + s.closedPeer + s.closedError + s.closedDestroy;
        out = fmt::format_to(
            out,
            "connections {} opened, {} closed (bye {} peer {} error {} destroy {}), {} dead peers; "
            "listeners {} opened {} closed {} failed; {} connects failed, {} accept back-offs; ",
            s.connectionsOpened, closed, s.closedBye, s.closedPeer, s.closedError, s.closedDestroy,
            s.deadPeers, s.listenersOpened, s.listenersClosed, s.listenFailures, s.connectFailures,
            s.acceptBackoffs);
        return fmt::format_to(
            out,
            "refused {} sends {} frames; {} pool_empty pauses; pool {} free of {} (initial {}, "
            "high {}, {} allocated)",
            s.sendRefused, s.framesRefused, s.poolEmptyPauses, s.poolFree, s.poolMax, s.poolInitial,
            s.poolFreeHigh, s.poolAllocated);
    }
};

/// One line: "ch 4660 connection open tcp|127.0.0.1|40112 queued 0 msgs 0 B, in 10 msgs 230 B, out 10 msgs
/// 230 B, up 12 s".
template <>
struct fmt::formatter<tofu::ChannelStats> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
    template <class Ctx>
    auto format(const tofu::ChannelStats& c, Ctx& ctx) const {
        const auto up =
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - c.since);
        return fmt::format_to(
            ctx.out(), "ch {} {} {} {} queued {} msgs {} B, in {} msgs {} B, out {} msgs {} B, up {} s",
            c.channel, c.kind, c.state, c.address.empty() ? "-" : c.address, c.queuedMessages, c.queuedBytes,
            c.messagesIn, c.bytesIn, c.messagesOut, c.bytesOut, up.count());
    }
};
/// @endcond
