// tofu: {fmt} formatters for statuses, message enums and binary headers.
#pragma once

#include <fmt/format.h>

#include <string_view>

#include "tofu/message.hpp"
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
#undef TOFU_ENUM_FORMATTER

/// "ch=4660 regular/request/application id=72623859790382856 thl=3 bl=5 status=success" (+ " more", " oob").
template <>
struct fmt::formatter<tofu::BinaryHeader> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
    template <class Ctx>
    auto format(const tofu::BinaryHeader& h, Ctx& ctx) const {
        auto out = fmt::format_to(ctx.out(), "ch={} {}/{}/{} id={} thl={} bl={} status={}", h.channel_number,
                                  h.proto.mtype, h.proto.role, h.proto.origin, h.message_id, h.thl, h.bl,
                                  tofu::raw_to_status(h.status));
        if (h.proto.more == tofu::MoreMessagesFlag::more) {
            out = fmt::format_to(out, " more");
        }
        if (h.proto.oob == tofu::Oob::on) {
            out = fmt::format_to(out, " oob");
        }
        return out;
    }
};
/// @endcond
