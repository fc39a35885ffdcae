// URLs for configurators: tcp://HOST:PORT, tcp://[IPv6]:PORT, uds://PATH.
#include <charconv>
#include <string>
#include <string_view>

#include "tofu/configurator.hpp"

namespace tofu {

namespace {

constexpr std::string_view TcpScheme = "tcp://";
constexpr std::string_view UdsScheme = "uds://";

bool nameChar(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

// A host name or IPv4 address: letters, digits, '-', '.', '_'.
bool validName(std::string_view host) noexcept {
    for (const char c : host) {
        if (!nameChar(c)) {
            return false;
        }
    }
    return true;
}

// An IPv6 literal (what goes between the brackets): hex digits, ':' (at least one) and '.', then an
// optional %zone of name characters.
bool validV6(std::string_view host) noexcept {
    const std::size_t pct = host.find('%');
    const std::string_view addr = host.substr(0, pct);
    if (addr.find(':') == std::string_view::npos) {
        return false;
    }
    for (const char c : addr) {
        const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!hex && c != ':' && c != '.') {
            return false;
        }
    }
    if (pct == std::string_view::npos) {
        return true;
    }
    const std::string_view zone = host.substr(pct + 1);
    return !zone.empty() && validName(zone);
}

// Characters that cannot go into a configuration header: its field separator and control bytes.
bool unsafe(std::string_view s) noexcept {
    for (const char c : s) {
        if (c == '|' || static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
            return true;
        }
    }
    return false;
}

std::string parseUds(std::string_view path, bool listen, Configurator& out) {
    if (path.empty() && !listen) {
        return "uds:// needs a socket path to connect to";  // a listener's empty path: the engine picks one
    }
    if (path.size() > MaxUdsPathLen) {
        return "socket path longer than " + std::to_string(MaxUdsPathLen) + " bytes";
    }
    if (unsafe(path)) {
        return "socket path holds '|' or a control character";
    }
    out = listen ? Configurator(UDSServerConfigurator(path)) : Configurator(UDSClientConfigurator(path));
    return {};
}

// HOST:PORT or [IPv6]:PORT into host and the port's text; returns the reason it is malformed.
std::string splitHostPort(std::string_view rest, std::string_view& host, std::string_view& port) {
    if (rest.starts_with('[')) {
        const std::size_t close = rest.find(']');
        if (close == std::string_view::npos) {
            return "IPv6 address without its closing ']'";
        }
        host = rest.substr(1, close - 1);
        if (host.empty()) {
            return "empty IPv6 address in brackets";
        }
        if (!validV6(host)) {
            return "'" + std::string(host) + "' in brackets is not an IPv6 address";
        }
        rest = rest.substr(close + 1);
        if (!rest.starts_with(':')) {
            return "missing ':PORT' after the IPv6 address";
        }
        port = rest.substr(1);
        return {};
    }
    const std::size_t colon = rest.find(':');
    if (colon == std::string_view::npos) {
        return "missing ':PORT'";
    }
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (port.find(':') != std::string_view::npos) {
        return "an IPv6 address goes in brackets (tcp://[::1]:PORT)";
    }
    if (!validName(host)) {
        return "host '" + std::string(host) +
               "' is not a name or an IPv4 address (letters, digits, '-', '.', '_')";
    }
    return {};
}

std::string parseTcp(std::string_view rest, bool listen, Configurator& out) {
    std::string_view host;
    std::string_view portText;
    if (std::string why = splitHostPort(rest, host, portText); !why.empty()) {
        return why;
    }
    unsigned port = 0;
    const char* const last = portText.data() + portText.size();
    const auto [end, ec] = std::from_chars(portText.data(), last, port);
    if (portText.empty() || ec != std::errc{} || end != last || port == 0 || port > 65535) {
        return "port '" + std::string(portText) + "' is not a number 1-65535";
    }
    const auto prt = static_cast<std::uint16_t>(port);
    if (listen) {
        out = Configurator(TCPServerConfigurator(host, prt));
        return {};
    }
    if (host.empty()) {
        return "a client needs a host (tcp://HOST:PORT)";
    }
    out = Configurator(TCPClientConfigurator(host, prt));
    return {};
}

// Parses url; returns the reason it is malformed, or empty with out set.
std::string parse(std::string_view url, UrlRole role, Configurator& out) {
    const bool listen = role == UrlRole::listen;
    if (url.empty()) {
        return "empty URL (tcp://HOST:PORT, tcp://[IPv6]:PORT or uds://PATH expected)";
    }
    if (url.starts_with(UdsScheme)) {
        return parseUds(url.substr(UdsScheme.size()), listen, out);
    }
    if (url.starts_with(TcpScheme)) {
        return parseTcp(url.substr(TcpScheme.size()), listen, out);
    }
    const std::size_t sep = url.find("://");
    if (sep == std::string_view::npos) {
        return "no scheme (tcp:// or uds:// expected)";
    }
    return "unknown scheme '" + std::string(url.substr(0, sep)) + "' (tcp:// or uds:// expected)";
}

std::string tcpUrl(std::string_view host, std::uint16_t port) {
    const bool v6 = host.find(':') != std::string_view::npos;
    if (v6 ? !validV6(host) : !validName(host)) {
        return {};  // no URL names it
    }
    return std::string(TcpScheme) + (v6 ? "[" : "") + std::string(host) + (v6 ? "]" : "") + ":" +
           std::to_string(port);
}

}  // namespace

Configurator parseUrl(std::string_view url, UrlRole role, std::string& why) {
    Configurator cfg;
    std::string reason = parse(url, role, cfg);
    if (!reason.empty()) {
        why = std::move(reason);
        return Configurator(WrongConfigurator{AmpeStatus::invalid_address});
    }
    return cfg;
}

Configurator parseUrl(std::string_view url, UrlRole role) {
    std::string why;
    Configurator cfg = parseUrl(url, role, why);
    if (cfg.isWrong()) {
        throw AmpeError(AmpeStatus::invalid_address, why + " in URL '" + std::string(url) + "'");
    }
    return cfg;
}

std::string toUrl(const Configurator& cfg) {
    if (const auto* c = cfg.get_if<TCPClientConfigurator>()) {
        return tcpUrl(c->addr, c->port);
    }
    if (const auto* c = cfg.get_if<TCPServerConfigurator>()) {
        return tcpUrl(c->addr, c->port);
    }
    if (const auto* c = cfg.get_if<UDSClientConfigurator>()) {
        return std::string(UdsScheme) + c->path;
    }
    if (const auto* c = cfg.get_if<UDSServerConfigurator>()) {
        return std::string(UdsScheme) + c->path;
    }
    return {};
}

}  // namespace tofu
