// URLs for the command-line programs: tcp://HOST:PORT, tcp://[IPv6]:PORT, uds://PATH.
#pragma once

#include <tofu/tofu.hpp>

#include <charconv>
#include <optional>
#include <string>
#include <string_view>

namespace recipes {

/// The configurator a URL names, for a server (listen) or a client (connect); nullopt when malformed.
inline std::optional<tofu::Configurator> parseUrl(std::string_view url, bool server) {
    if (url.starts_with("uds://")) {
        const std::string_view path = url.substr(6);
        if (path.empty() || path.size() > tofu::MaxUdsPathLen) {
            return std::nullopt;
        }
        if (server) {
            return tofu::Configurator(tofu::UDSServerConfigurator(path));
        }
        return tofu::Configurator(tofu::UDSClientConfigurator(path));
    }
    if (!url.starts_with("tcp://")) {
        return std::nullopt;
    }
    std::string_view rest = url.substr(6);
    std::string_view host;
    if (rest.starts_with('[')) {
        const std::size_t close = rest.find(']');
        if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
            return std::nullopt;
        }
        host = rest.substr(1, close - 1);
        rest = rest.substr(close + 2);
    } else {
        const std::size_t colon = rest.rfind(':');
        if (colon == std::string_view::npos) {
            return std::nullopt;
        }
        host = rest.substr(0, colon);
        rest = rest.substr(colon + 1);
    }
    unsigned port = 0;
    const auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), port);
    if (rest.empty() || ec != std::errc{} || p != rest.data() + rest.size() || port == 0 || port > 65535) {
        return std::nullopt;
    }
    if (server) {
        return tofu::Configurator(tofu::TCPServerConfigurator(host, static_cast<std::uint16_t>(port)));
    }
    if (host.empty()) {
        return std::nullopt;
    }
    return tofu::Configurator(tofu::TCPClientConfigurator(host, static_cast<std::uint16_t>(port)));
}

}  // namespace recipes
