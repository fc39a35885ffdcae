// Text helpers shared by the header parser (message.cpp), the configuration parser (configurator.cpp) and
// the engine's log and channel snapshots.
#pragma once

#include <string>
#include <string_view>

namespace tofu::detail {

/// Spaces and tabs: what is trimmed off a header value and off each part of a configuration.
inline constexpr std::string_view Blanks = " \t";

/// s without leading and trailing characters of chars.
[[nodiscard]] constexpr std::string_view trim(std::string_view s, std::string_view chars = Blanks) noexcept {
    const std::size_t b = s.find_first_not_of(chars);
    if (b == std::string_view::npos) {
        return {};
    }
    const std::size_t e = s.find_last_not_of(chars);
    return s.substr(b, e - b + 1);
}

/// s with control bytes, bytes above 0x7E and backslashes written as \xNN: one line of plain ASCII, whatever
/// a peer or an address put in it (engine log lines and channel snapshots show peers' UDS paths).
[[nodiscard]] inline std::string printable(std::string_view s) {
    constexpr std::string_view Hex = "0123456789abcdef";
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
        const auto b = static_cast<unsigned char>(c);
        if (b < 0x20 || b > 0x7E || b == '\\') {
            out += "\\x";
            out += Hex[b >> 4];
            out += Hex[b & 0xF];
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace tofu::detail
