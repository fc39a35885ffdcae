// Sockets for the engine: RAII descriptors, listeners, non-blocking connects, accept, address parsing.
// Nothing here blocks except resolve(), which the engine runs off the reactor thread.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "platform/os_socket.hpp"
#include "tofu/configurator.hpp"
#include "tofu/status.hpp"

namespace tofu::detail {

/// Owns one socket (a file descriptor on POSIX, a SOCKET on Windows); closes it when destroyed.
class UniqueFd {
  public:
    UniqueFd() noexcept = default;
    explicit UniqueFd(NativeSocket fd) noexcept : fd_(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, InvalidSocket)) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept {
        if (this != &o) {
            reset(std::exchange(o.fd_, InvalidSocket));
        }
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    [[nodiscard]] NativeSocket get() const noexcept { return fd_; }
    [[nodiscard]] bool valid() const noexcept { return fd_ != InvalidSocket; }
    explicit operator bool() const noexcept { return valid(); }
    NativeSocket release() noexcept { return std::exchange(fd_, InvalidSocket); }
    void reset(NativeSocket fd = InvalidSocket) noexcept;

  private:
    NativeSocket fd_ = InvalidSocket;
};

/// A socket address (IPv4, IPv6 or Unix).
struct Endpoint {
    sockaddr_storage addr{};
    socklen_t len = 0;

    [[nodiscard]] int family() const noexcept { return addr.ss_family; }
    /// The numeric address (IPv4/IPv6) or the socket path (Unix).
    [[nodiscard]] std::string host() const;
    /// The TCP port; 0 for a Unix endpoint.
    [[nodiscard]] std::uint16_t port() const noexcept;
    /// For messages: IP:PORT, [IPv6]:PORT or the path.
    [[nodiscard]] std::string toString() const;
};

/// A TCP endpoint from a numeric IPv4/IPv6 literal (brackets allowed); empty host: every interface
/// ("0.0.0.0") when forListen, else loopback. false when host is not a literal.
[[nodiscard]] bool numericEndpoint(std::string_view host, std::uint16_t port, bool forListen, Endpoint& out);

/// A Unix endpoint; false when the path is empty or longer than MaxUdsPathLen.
[[nodiscard]] bool udsEndpoint(std::string_view path, Endpoint& out);

/// Blocking name resolution (getaddrinfo, every address, IPv4 and IPv6): invalid_address when the
/// name does not resolve. Run it off the reactor thread.
/// why (optional) receives the resolver's explanation of a failure.
[[nodiscard]] AmpeStatus resolve(std::string_view host, std::uint16_t port, std::vector<Endpoint>& out,
                                 std::string* why = nullptr);

/// A listening, non-blocking, close-on-exec socket for a TCP or UDS server configurator.
/// TCP: SO_REUSEADDR (never SO_REUSEPORT: a second listener on the same port fails).
/// UDS: a stale socket file (no listener behind it) is replaced; a live one or another file fails.
/// An empty UDS path listens on a fresh path under $TMPDIR (or /tmp), as the original did; read it
/// back with boundUdsPath() (unknown_error when no fresh path can be made).
/// Status: invalid_address (unparsable, not a literal, EADDRNOTAVAIL, path too long),
/// listen_failed (EADDRINUSE, EACCES, live UDS path ...), wrong_configuration (not a server configurator),
/// else unknown_error.
/// why (optional) receives what failed, with the address and the OS's words.
[[nodiscard]] AmpeStatus createListener(const Configurator& cfg, UniqueFd& out, std::string* why = nullptr);

#if defined(_WIN32)
/// Gives up findFreeTcpPort()'s hold on port (helpers.cpp), which on Windows would keep a listener off it:
/// there a bound socket and an SO_EXCLUSIVEADDRUSE listener cannot share a port (on POSIX SO_REUSEADDR lets
/// the listener bind over the reservation).
void releasePortReservation(std::uint16_t port) noexcept;
#endif

/// The local TCP port of a bound socket (0 when unknown or not TCP).
[[nodiscard]] std::uint16_t localPort(NativeSocket fd) noexcept;

/// Which file a UDS listener's path named when it was bound (device and inode; 0/0 for TCP).
struct UdsFileId {
    std::uint64_t dev = 0;
    std::uint64_t ino = 0;
};
[[nodiscard]] UdsFileId udsFileId(NativeSocket fd) noexcept;

/// Removes the socket file of a UDS listener fd (no-op for TCP), unless the path now names another file
/// (removed and bound again by someone else).
void unlinkUdsListener(NativeSocket fd, UdsFileId id) noexcept;

/// The path a UDS socket fd is bound to; empty for TCP or when it cannot be read.
[[nodiscard]] std::string boundUdsPath(NativeSocket fd);

/// The peer of a connected socket as a configurator address: tcp|IP|PORT or uds|PATH (uds| when the
/// peer's socket has no name); empty when it cannot be read.
[[nodiscard]] std::string peerAddress(NativeSocket fd);

/// Removes every record named name from msg's text headers (thl follows); true when one was removed.
bool removeHeader(Message& msg, std::string_view name);

/// Replaces the value of the first `~listen_on` record of msg's text headers (appends the record when
/// there is none); the other records keep their bytes and order. Tells the application, in its
/// WelcomeResponse, the address the engine actually chose.
void setListenOn(Message& msg, std::string_view value);

/// Starts a non-blocking connect to ep (TCP: TCP_NODELAY, and keepalive for deadPeerTimeoutMs, an
/// Options::deadPeerTimeoutMs value). On success `inProgress` tells whether
/// completion must be awaited (writable, then finishConnect). Status: peer_disconnected (ECONNREFUSED),
/// uds_path_not_found (ENOENT), connect_failed otherwise. A UDS listener with a full backlog refuses at
/// once (EAGAIN, nothing pending): connect_failed, and *busy set so that the caller may try again later.
[[nodiscard]] AmpeStatus startConnect(const Endpoint& ep, UniqueFd& out, bool& inProgress,
                                      std::uint32_t deadPeerTimeoutMs = 0, bool* busy = nullptr,
                                      std::string* why = nullptr);

/// Result of a pending connect once the socket is writable: success or connect_failed.
[[nodiscard]] AmpeStatus finishConnect(NativeSocket fd, std::string* why = nullptr,
                                       const Endpoint* ep = nullptr);

/// "what ADDRESS: OS text" for an errno value (socketError()), for the ~error header and exceptions.
[[nodiscard]] std::string osFailure(std::string_view what, const std::string& address, int err);

enum class AcceptResult : std::uint8_t {
    accepted,    // out holds a non-blocking, close-on-exec socket (TCP: tuned as by startConnect)
    wouldBlock,  // nothing pending
    transient,   // the connection died before accept (ECONNABORTED, EPROTO...): try again
    exhausted,   // EMFILE/ENFILE/ENOBUFS/ENOMEM: back off before accepting again
    failed,      // the listener itself is broken
};
[[nodiscard]] AcceptResult acceptOne(NativeSocket listenFd, UniqueFd& out,
                                     std::uint32_t deadPeerTimeoutMs = 0) noexcept;

}  // namespace tofu::detail
