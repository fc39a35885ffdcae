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

/// Protocol tag of a TCP/IP address in a configuration header.
inline constexpr std::string_view TCPProto = "tcp";
/// Protocol tag of a Unix domain socket address in a configuration header.
inline constexpr std::string_view UDSProto = "uds";
/// The protocol used when none is chosen: TCP.
inline constexpr std::string_view DefaultProto = TCPProto;
/// The address a TCP client connects to by default: the IPv4 loopback.
inline constexpr std::string_view DefaultAddr = "127.0.0.1";
/// The TCP port used when none is given.
inline constexpr std::uint16_t DefaultPort = 7099;

/// Client side: `~connect_to:tcp|HOST|PORT` or `~connect_to:uds|PATH` (in a HelloRequest).
inline constexpr std::string_view ConnectToHeader = "~connect_to";
/// Server side: `~listen_on:tcp|IP|PORT` (empty IP: every interface) or `~listen_on:uds|PATH` (in a
/// WelcomeRequest).
inline constexpr std::string_view ListenOnHeader = "~listen_on";
/// Engine header on an accepted HelloRequest: the peer's address as the socket sees it (getpeername),
/// `~peer_address:tcp|IP|PORT` or `~peer_address:uds|PATH` (`uds|` for the usual unnamed client socket),
/// whatever the client wrote in its own headers. Not sent on: enqueueToPeer() drops it from a HelloResponse
/// made from the request.
inline constexpr std::string_view PeerAddressHeader = "~peer_address";

/// Longest UDS path (sun_path less its terminating NUL on Linux).
inline constexpr std::size_t MaxUdsPathLen = 107;

/// Where a TCP client connects: host and port, sent as `~connect_to:tcp|HOST|PORT` in a HelloRequest.
struct TOFU_API TCPClientConfigurator {
    /// Host name, IPv4 or IPv6 literal (without brackets).
    std::string addr{DefaultAddr};
    /// TCP port of the server.
    std::uint16_t port = DefaultPort;

    /// Connects to DefaultAddr on DefaultPort.
    TCPClientConfigurator() = default;
    /// Connects to host on port prt.
    explicit TCPClientConfigurator(std::string_view host, std::uint16_t prt = DefaultPort)
        : addr(host), port(prt) {}

    /// Makes msg a HelloRequest carrying this configuration (header reset first).
    void prepareRequest(Message& msg) const;
    /// Appends the `~connect_to` header to config; an empty addr throws AmpeError(wrong_configuration).
    void toConfiguration(TextHeaders& config) const;
    /// The host, as given.
    [[nodiscard]] std::string_view addrToSlice() const noexcept { return addr; }
    /// True when host and port are equal.
    bool operator==(const TCPClientConfigurator&) const = default;
};

/// Where a TCP server listens: IP and port, sent as `~listen_on:tcp|IP|PORT` in a WelcomeRequest.
struct TOFU_API TCPServerConfigurator {
    /// IPv4 or IPv6 literal to bind; empty means every interface.
    std::string addr;
    /// TCP port to listen on.
    std::uint16_t port = DefaultPort;

    /// Listens on every interface on DefaultPort.
    TCPServerConfigurator() = default;
    /// Listens on ip (empty: every interface) on port prt.
    explicit TCPServerConfigurator(std::string_view ip, std::uint16_t prt = DefaultPort)
        : addr(ip), port(prt) {}

    /// Makes msg a WelcomeRequest carrying this configuration (header reset first).
    void prepareRequest(Message& msg) const;
    /// Appends the `~listen_on` header to config.
    void toConfiguration(TextHeaders& config) const;
    /// The IP to bind, as given (empty: every interface).
    [[nodiscard]] std::string_view addrToSlice() const noexcept { return addr; }
    /// True when IP and port are equal.
    bool operator==(const TCPServerConfigurator&) const = default;
};

/// Where a Unix domain socket client connects, sent as `~connect_to:uds|PATH` in a HelloRequest.
struct TOFU_API UDSClientConfigurator {
    /// File system path of the server's socket (at most MaxUdsPathLen bytes).
    std::string path;

    /// No path yet; set one before use.
    UDSClientConfigurator() = default;
    /// Connects to the socket at path p.
    explicit UDSClientConfigurator(std::string_view p) : path(p) {}

    /// Makes msg a HelloRequest carrying this configuration (header reset first).
    void prepareRequest(Message& msg) const;
    /// Appends the `~connect_to` header to config; an empty path throws AmpeError(wrong_configuration).
    void toConfiguration(TextHeaders& config) const;
    /// The socket path.
    [[nodiscard]] std::string_view addrToSlice() const noexcept { return path; }
    /// True when the paths are equal.
    bool operator==(const UDSClientConfigurator&) const = default;
};

/// Where a Unix domain socket server listens, sent as `~listen_on:uds|PATH` in a WelcomeRequest.
/// An empty path lets the engine listen on a fresh path under $TMPDIR (or /tmp), as the original did;
/// the WelcomeResponse's `~listen_on` header then holds the path it chose.
struct TOFU_API UDSServerConfigurator {
    /// File system path of the socket to create (at most MaxUdsPathLen bytes); empty: the engine picks one.
    std::string path;

    /// An empty path: the engine picks a fresh one.
    UDSServerConfigurator() = default;
    /// Listens on a socket at path p.
    explicit UDSServerConfigurator(std::string_view p) : path(p) {}

    /// Makes msg a WelcomeRequest carrying this configuration (header reset first).
    void prepareRequest(Message& msg) const;
    /// Appends the `~listen_on` header to config (`uds|` for an empty path).
    void toConfiguration(TextHeaders& config) const;
    /// The socket path.
    [[nodiscard]] std::string_view addrToSlice() const noexcept { return path; }
    /// True when the paths are equal.
    bool operator==(const UDSServerConfigurator&) const = default;
};

/// No usable configuration; `reason` says why (wrong_configuration: no address header at all,
/// invalid_address: a header that does not parse). prepareRequest always throws
/// AmpeError(wrong_configuration). The engine answers any Welcome/Hello whose headers give no usable
/// address with invalid_address, as the original does.
struct TOFU_API WrongConfigurator {
    /// Why the configuration is unusable: wrong_configuration or invalid_address.
    AmpeStatus reason = AmpeStatus::wrong_configuration;

    /// Always throws AmpeError(wrong_configuration); msg is left untouched.
    void prepareRequest(Message& msg) const;
    /// True when the reasons are equal.
    bool operator==(const WrongConfigurator&) const = default;
};

/// One of the configurators above.
class TOFU_API Configurator {
  public:
    /// The configurator kinds a Configurator can hold.
    using Variant = std::variant<TCPServerConfigurator, TCPClientConfigurator, UDSServerConfigurator,
                                 UDSClientConfigurator, WrongConfigurator>;

    /// Holds a WrongConfigurator (wrong_configuration): nothing configured yet.
    Configurator() : v_(WrongConfigurator{}) {}
    /// Holds a TCP server configuration.
    Configurator(TCPServerConfigurator c) : v_(std::move(c)) {}
    /// Holds a TCP client configuration.
    Configurator(TCPClientConfigurator c) : v_(std::move(c)) {}
    /// Holds a UDS server configuration.
    Configurator(UDSServerConfigurator c) : v_(std::move(c)) {}
    /// Holds a UDS client configuration.
    Configurator(UDSClientConfigurator c) : v_(std::move(c)) {}
    /// Holds an unusable configuration.
    Configurator(WrongConfigurator c) : v_(c) {}

    /// Calls prepareRequest of the held configurator (WelcomeRequest or HelloRequest).
    void prepareRequest(Message& msg) const;

    /// True when both hold the same kind of configurator.
    [[nodiscard]] bool eql(const Configurator& other) const noexcept {
        return v_.index() == other.v_.index();
    }
    /// True when it holds a WrongConfigurator.
    [[nodiscard]] bool isWrong() const noexcept { return std::holds_alternative<WrongConfigurator>(v_); }
    /// success, or the reason of a WrongConfigurator.
    [[nodiscard]] AmpeStatus status() const noexcept;

    /// Parses the first `~connect_to` / `~listen_on` header of msg. Two `|`-separated parts must be
    /// `uds|PATH`, three `tcp|HOST|PORT`; anything else gives a WrongConfigurator(invalid_address), and
    /// no such header at all a WrongConfigurator(wrong_configuration).
    [[nodiscard]] static Configurator fromMessage(const Message& msg);
    /// Parses one header value; `server` picks listen_on (true) or connect_to (false) semantics.
    [[nodiscard]] static Configurator fromString(std::string_view value, bool server);

    /// The held configurator, for std::visit.
    [[nodiscard]] const Variant& variant() const noexcept { return v_; }
    /// The held configurator when it is a T, otherwise nullptr.
    template <class T>
    [[nodiscard]] const T* get_if() const noexcept {
        return std::get_if<T>(&v_);
    }

    /// True when both hold equal configurators of the same kind (eql() compares the kind only).
    bool operator==(const Configurator&) const = default;

  private:
    Variant v_;
};

/// What a URL is for: where a client connects (HelloRequest) or where a server listens (WelcomeRequest).
enum class UrlRole : std::uint8_t { connect, listen };

/// The configurator a URL names:
/// - `tcp://HOST:PORT`: HOST a name or an IPv4 address (letters, digits, '-', '.', '_'); for `listen` an
///   empty HOST (`tcp://:PORT`) means every interface;
/// - `tcp://[IPv6]:PORT`: an IPv6 literal in brackets (`tcp://[::1]:7099`);
/// - `tcp://[IPv6]:PORT` may carry a zone: `tcp://[fe80::1%eth0]:7099`;
/// - `uds://PATH`: a Unix domain socket, PATH at most MaxUdsPathLen bytes (`uds:///tmp/echo.sock`); for
///   `listen`, `uds://` alone asks the engine to pick a path (the WelcomeResponse tells which).
///
/// PORT is 1..65535. For `connect` the result holds a TCPClientConfigurator or UDSClientConfigurator,
/// for `listen` a TCPServerConfigurator or UDSServerConfigurator. Throws AmpeError(invalid_address)
/// whose what() says what is wrong and quotes the URL (e.g. "port '80x' is not a number 1-65535 in URL
/// 'tcp://h:80x'").
[[nodiscard]] TOFU_API Configurator parseUrl(std::string_view url, UrlRole role);

/// parseUrl() without exceptions: on a malformed URL returns a WrongConfigurator(invalid_address) and
/// writes the explanation into why (left untouched on success).
[[nodiscard]] TOFU_API Configurator parseUrl(std::string_view url, UrlRole role, std::string& why);

/// The URL of cfg, the inverse of parseUrl() (toUrl(parseUrl(u)) == u for every URL parseUrl accepts):
/// `tcp://HOST:PORT` (`[..]` around an IPv6 literal, an empty HOST for a server on every interface) or
/// `uds://PATH`; empty for a WrongConfigurator and for a host no URL can carry (e.g. one holding '|').
[[nodiscard]] TOFU_API std::string toUrl(const Configurator& cfg);

/// Upstream's later name for Configurator (same type, same wire text).
using Address = Configurator;
/// Upstream's later name for TCPServerConfigurator.
using TCPServerAddress = TCPServerConfigurator;
/// Upstream's later name for TCPClientConfigurator.
using TCPClientAddress = TCPClientConfigurator;
/// Upstream's later name for UDSServerConfigurator.
using UDSServerAddress = UDSServerConfigurator;
/// Upstream's later name for UDSClientConfigurator.
using UDSClientAddress = UDSClientConfigurator;
/// Upstream's later name for WrongConfigurator.
using WrongAddress = WrongConfigurator;

}  // namespace tofu
