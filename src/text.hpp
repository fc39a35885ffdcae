// Text helpers shared by the header parser (message.cpp) and the configuration parser (configurator.cpp).
#pragma once

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

}  // namespace tofu::detail
