#include "tofu/configurator.hpp"

#include <array>
#include <charconv>
#include <string>

#include "text.hpp"

namespace tofu {

namespace {

void prepare(Message& msg, MessageType mt, MessageRole role) {
    msg.bhdr.clean();
    msg.bhdr.proto.mtype = mt;
    msg.bhdr.proto.role = role;
}

std::string tcpValue(std::string_view addr, std::uint16_t port) {
    std::string v(TCPProto);
    v += '|';
    v += addr;
    v += '|';
    v += std::to_string(port);
    return v;
}

std::string udsValue(std::string_view path) {
    std::string v(UDSProto);
    v += '|';
    v += path;
    return v;
}

// Appending throws invalid_message for CR/LF in an address; for a configurator that is a wrong configuration.
void appendConfig(TextHeaders& config, std::string_view name, const std::string& value) {
    try {
        config.append(name, value);
    } catch (const AmpeError&) {
        throw AmpeError(AmpeStatus::wrong_configuration);
    }
}

void checkUdsPathLength(std::string_view path) {
    if (path.size() > MaxUdsPathLen) {
        throw AmpeError(AmpeStatus::invalid_address, "UDS path of " + std::to_string(path.size()) +
                                                         " bytes; the limit is " +
                                                         std::to_string(MaxUdsPathLen));
    }
}

// Splits value at '|' into its parts, trimmed as header values are (so a configurator survives a trip
// through a message); 0 when there are more than three.
std::size_t splitConfig(std::string_view value, std::array<std::string_view, 3>& parts) {
    std::size_t count = 0;
    std::size_t start = 0;
    for (;;) {
        const std::size_t bar = value.find('|', start);
        if (count == parts.size()) {
            return 0;
        }
        parts[count++] = detail::trim(
            value.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start));
        if (bar == std::string_view::npos) {
            return count;
        }
        start = bar + 1;
    }
}

Configurator udsFromString(std::string_view path, bool server) {
    if (path.size() > MaxUdsPathLen) {
        return WrongConfigurator{AmpeStatus::invalid_address};
    }
    if (server) {
        return UDSServerConfigurator(path);  // empty: listen on a fresh temporary path
    }
    if (path.empty()) {
        return WrongConfigurator{AmpeStatus::invalid_address};  // a client needs the server's path
    }
    return UDSClientConfigurator(path);
}

Configurator tcpFromString(std::string_view host, std::string_view portText, bool server) {
    unsigned port = 0;
    const char* const end = portText.data() + portText.size();
    const auto [ptr, ec] = std::from_chars(portText.data(), end, port);
    if (portText.empty() || ec != std::errc{} || ptr != end || port > 65535) {
        return WrongConfigurator{AmpeStatus::invalid_address};
    }
    if (server) {
        return TCPServerConfigurator(host, static_cast<std::uint16_t>(port));
    }
    if (host.empty()) {
        return WrongConfigurator{AmpeStatus::invalid_address};
    }
    return TCPClientConfigurator(host, static_cast<std::uint16_t>(port));
}

}  // namespace

void TCPClientConfigurator::prepareRequest(Message& msg) const {
    prepare(msg, MessageType::hello, MessageRole::request);
    toConfiguration(msg.thdrs);
}
void TCPClientConfigurator::toConfiguration(TextHeaders& config) const {
    if (addr.empty()) {
        throw AmpeError(AmpeStatus::wrong_configuration);
    }
    appendConfig(config, ConnectToHeader, tcpValue(addr, port));
}

void TCPServerConfigurator::prepareRequest(Message& msg) const {
    prepare(msg, MessageType::welcome, MessageRole::request);
    toConfiguration(msg.thdrs);
}
void TCPServerConfigurator::toConfiguration(TextHeaders& config) const {
    appendConfig(config, ListenOnHeader, tcpValue(addr, port));  // empty addr: every interface
}

void UDSClientConfigurator::prepareRequest(Message& msg) const {
    prepare(msg, MessageType::hello, MessageRole::request);
    toConfiguration(msg.thdrs);
}
void UDSClientConfigurator::toConfiguration(TextHeaders& config) const {
    if (path.empty()) {
        throw AmpeError(AmpeStatus::wrong_configuration, "a UDS client needs a socket path");
    }
    checkUdsPathLength(path);
    appendConfig(config, ConnectToHeader, udsValue(path));
}

void UDSServerConfigurator::prepareRequest(Message& msg) const {
    prepare(msg, MessageType::welcome, MessageRole::request);
    toConfiguration(msg.thdrs);
}
void UDSServerConfigurator::toConfiguration(TextHeaders& config) const {
    checkUdsPathLength(path);
    appendConfig(config, ListenOnHeader, udsValue(path));  // empty path: the engine picks one
}

void WrongConfigurator::prepareRequest(Message&) const {
    throw AmpeError(AmpeStatus::wrong_configuration);
}

void Configurator::prepareRequest(Message& msg) const {
    std::visit([&msg](const auto& c) { c.prepareRequest(msg); }, v_);
}

AmpeStatus Configurator::status() const noexcept {
    const auto* w = std::get_if<WrongConfigurator>(&v_);
    return w == nullptr ? AmpeStatus::success : w->reason;
}

Configurator Configurator::fromMessage(const Message& msg) {
    TextHeaderIterator it = msg.thdrs.hiter();
    while (std::optional<TextHeader> th = it.next()) {
        if (th->name == ConnectToHeader) {
            return fromString(th->value, false);
        }
        if (th->name == ListenOnHeader) {
            return fromString(th->value, true);
        }
    }
    return WrongConfigurator{AmpeStatus::wrong_configuration};  // no configuration at all
}

// "uds|PATH" or "tcp|HOST|PORT". Anything else is a header that does not parse: invalid_address, which is
// also what the original's engine reports for it (wrong part count — the original overflowed an array on
// 4+ parts —, unknown protocol, bad port, empty or too long path, empty client host).
Configurator Configurator::fromString(std::string_view value, bool server) {
    std::array<std::string_view, 3> parts;
    const std::size_t count = splitConfig(value, parts);
    for (const char c : parts[1]) {  // an address holding control bytes (NUL included) is malformed
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
            return WrongConfigurator{AmpeStatus::invalid_address};
        }
    }
    if (count == 2 && parts[0] == UDSProto) {
        return udsFromString(parts[1], server);
    }
    if (count == 3 && parts[0] == TCPProto) {  // the original took any 3 parts as tcp
        return tcpFromString(parts[1], parts[2], server);
    }
    return WrongConfigurator{AmpeStatus::invalid_address};
}

}  // namespace tofu
