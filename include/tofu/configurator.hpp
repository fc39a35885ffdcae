// tofu: configurators — where to listen (Welcome) or connect (Hello), written as text headers.
#pragma once

#include "tofu/export.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "tofu/message.hpp"
#include "tofu/status.hpp"

namespace tofu {

inline constexpr std::string_view TCPProto = "tcp";
inline constexpr std::string_view UDSProto = "uds";
inline constexpr std::string_view DefaultProto = TCPProto;
inline constexpr std::string_view DefaultAddr = "127.0.0.1";
inline constexpr std::uint16_t DefaultPort = 7099;

/// Client side: `~connect_to:tcp|HOST|PORT` or `~connect_to:uds|PATH` (in a HelloRequest).
inline constexpr std::string_view ConnectToHeader = "~connect_to";
/// Server side: `~listen_on:tcp|IP|PORT` (empty IP: every interface) or `~listen_on:uds|PATH` (in a
/// WelcomeRequest).
inline constexpr std::string_view ListenOnHeader = "~listen_on";

/// Longest UDS path (sun_path less its terminating NUL on Linux).
inline constexpr std::size_t MaxUdsPathLen = 107;

struct TOFU_API TCPClientConfigurator {
    /// Host name, IPv4 or IPv6 literal (without brackets).
    std::string addr{DefaultAddr};
    std::uint16_t port = DefaultPort;

    TCPClientConfigurator() = default;
    explicit TCPClientConfigurator(std::string_view host, std::uint16_t prt = DefaultPort)
        : addr(host), port(prt) {}

    /// Makes msg a HelloRequest carrying this configuration (header reset first).
    void prepareRequest(Message& msg) const;
    /// Makes msg a Hello signal carrying this configuration. The engine refuses Hello signals
    /// (invalid_message_mode); kept for parity with the original's configurator.
    void prepareSignal(Message& msg) const;
    void toConfiguration(TextHeaders& config) const;
    [[nodiscard]] std::string_view addrToSlice() const noexcept { return addr; }
    bool operator==(const TCPClientConfigurator&) const = default;
};

struct TOFU_API TCPServerConfigurator {
    /// IPv4 or IPv6 literal to bind; empty means every interface.
    std::string addr;
    std::uint16_t port = DefaultPort;

    TCPServerConfigurator() = default;
    explicit TCPServerConfigurator(std::string_view ip, std::uint16_t prt = DefaultPort)
        : addr(ip), port(prt) {}

    /// Makes msg a WelcomeRequest carrying this configuration (header reset first).
    void prepareRequest(Message& msg) const;
    /// Makes msg a Welcome signal; the engine refuses it (invalid_message_mode).
    void prepareSignal(Message& msg) const;
    void toConfiguration(TextHeaders& config) const;
    [[nodiscard]] std::string_view addrToSlice() const noexcept { return addr; }
    bool operator==(const TCPServerConfigurator&) const = default;
};

struct TOFU_API UDSClientConfigurator {
    std::string path;

    UDSClientConfigurator() = default;
    explicit UDSClientConfigurator(std::string_view p) : path(p) {}

    void prepareRequest(Message& msg) const;
    void prepareSignal(Message& msg) const;
    void toConfiguration(TextHeaders& config) const;
    [[nodiscard]] std::string_view addrToSlice() const noexcept { return path; }
    bool operator==(const UDSClientConfigurator&) const = default;
};

struct TOFU_API UDSServerConfigurator {
    std::string path;

    UDSServerConfigurator() = default;
    explicit UDSServerConfigurator(std::string_view p) : path(p) {}

    void prepareRequest(Message& msg) const;
    void prepareSignal(Message& msg) const;
    void toConfiguration(TextHeaders& config) const;
    [[nodiscard]] std::string_view addrToSlice() const noexcept { return path; }
    bool operator==(const UDSServerConfigurator&) const = default;
};

/// No usable configuration; `reason` says why (wrong_configuration: none given,
/// invalid_address: given but malformed). prepare* always throw AmpeError(wrong_configuration).
struct TOFU_API WrongConfigurator {
    AmpeStatus reason = AmpeStatus::wrong_configuration;

    void prepareRequest(Message& msg) const;
    void prepareSignal(Message& msg) const;
    bool operator==(const WrongConfigurator&) const = default;
};

/// One of the configurators above.
class TOFU_API Configurator {
  public:
    using Variant = std::variant<TCPServerConfigurator, TCPClientConfigurator, UDSServerConfigurator,
                                 UDSClientConfigurator, WrongConfigurator>;

    Configurator() : v_(WrongConfigurator{}) {}
    Configurator(TCPServerConfigurator c) : v_(std::move(c)) {}
    Configurator(TCPClientConfigurator c) : v_(std::move(c)) {}
    Configurator(UDSServerConfigurator c) : v_(std::move(c)) {}
    Configurator(UDSClientConfigurator c) : v_(std::move(c)) {}
    Configurator(WrongConfigurator c) : v_(c) {}

    void prepareRequest(Message& msg) const;
    void prepareSignal(Message& msg) const;

    /// True when both hold the same kind of configurator.
    [[nodiscard]] bool eql(const Configurator& other) const noexcept {
        return v_.index() == other.v_.index();
    }
    [[nodiscard]] bool isWrong() const noexcept { return std::holds_alternative<WrongConfigurator>(v_); }
    /// success, or the reason of a WrongConfigurator.
    [[nodiscard]] AmpeStatus status() const noexcept;

    /// Parses the first `~connect_to` / `~listen_on` header of msg. Two `|`-separated parts must be
    /// `uds|PATH`, three `tcp|HOST|PORT`; anything else gives a WrongConfigurator with its reason.
    [[nodiscard]] static Configurator fromMessage(const Message& msg);
    /// Parses one header value; `server` picks listen_on (true) or connect_to (false) semantics.
    [[nodiscard]] static Configurator fromString(std::string_view value, bool server);

    [[nodiscard]] const Variant& variant() const noexcept { return v_; }
    template <class T>
    [[nodiscard]] const T* get_if() const noexcept {
        return std::get_if<T>(&v_);
    }

    bool operator==(const Configurator&) const = default;

  private:
    Variant v_;
};

}  // namespace tofu
