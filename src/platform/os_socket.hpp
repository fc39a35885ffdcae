// The one place that knows the operating system's sockets. The engine above it sees one interface:
// NativeSocket handles, failures as errno values (EAGAIN, ECONNREFUSED ... on every platform: Winsock's
// WSAE* codes are mapped here), gather writes, and a wake-up pair. socket_posix.cpp implements it with
// BSD sockets, socket_win32.cpp with Winsock 2 (as libzmq and NNG keep a platform layer per OS).
#pragma once

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
// Order matters: afunix.h needs winsock2.h.
#include <afunix.h>
#else
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#endif

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>

namespace tofu::detail {

#if defined(_WIN32)
using NativeSocket = SOCKET;
inline constexpr NativeSocket InvalidSocket = INVALID_SOCKET;
/// One piece of a gather write (WSABUF: length first).
using IoVec = WSABUF;
#else
using NativeSocket = int;
inline constexpr NativeSocket InvalidSocket = -1;
using IoVec = iovec;
#endif

/// A gather-write piece over [p, p + n).
[[nodiscard]] inline IoVec makeIoVec(void* p, std::size_t n) noexcept {
#if defined(_WIN32)
    return IoVec{static_cast<ULONG>(n), static_cast<CHAR*>(p)};
#else
    return IoVec{p, n};
#endif
}
[[nodiscard]] inline std::uint8_t* ioVecEnd(const IoVec& v) noexcept {
#if defined(_WIN32)
    return reinterpret_cast<std::uint8_t*>(v.buf) + v.len;
#else
    return static_cast<std::uint8_t*>(v.iov_base) + v.iov_len;
#endif
}
inline void ioVecGrow(IoVec& v, std::size_t n) noexcept {
#if defined(_WIN32)
    v.len += static_cast<ULONG>(n);
#else
    v.iov_len += n;
#endif
}

/// Keeps the socket library loaded while alive (Winsock's WSAStartup/WSACleanup; nothing on POSIX).
/// Every engine holds one; so do the helpers that open sockets outside an engine.
class SocketRuntime {
  public:
    SocketRuntime();  // throws AmpeError(unknown_error) when Winsock cannot start
#if defined(_WIN32)
    ~SocketRuntime();
#else
    ~SocketRuntime() = default;
#endif
    SocketRuntime(const SocketRuntime&) = delete;
    SocketRuntime& operator=(const SocketRuntime&) = delete;
    SocketRuntime(SocketRuntime&&) = delete;
    SocketRuntime& operator=(SocketRuntime&&) = delete;
};

/// The last socket call's failure as an errno value (EWOULDBLOCK, ECONNRESET ...), Winsock's mapped.
[[nodiscard]] int socketError() noexcept;
/// The system's words for such a value.
[[nodiscard]] std::string socketErrorText(int err);

/// A stream socket of family, non-blocking, not inherited by child processes, never raising SIGPIPE.
/// InvalidSocket on failure (socketError() says why).
[[nodiscard]] NativeSocket openStreamSocket(int family) noexcept;
void closeSocket(NativeSocket s) noexcept;
/// Accepts one connection as openStreamSocket would make it; InvalidSocket with socketError() set.
[[nodiscard]] NativeSocket acceptSocket(NativeSocket listener) noexcept;
/// connect(), retried on EINTR: 0, EINPROGRESS when completion must be awaited (Winsock's WSAEWOULDBLOCK
/// too), else the failure.
[[nodiscard]] int connectSocket(NativeSocket s, const sockaddr* addr, socklen_t len) noexcept;
/// SO_ERROR: a pending connect's outcome (0: none), read and cleared; the read's own failure if it fails.
[[nodiscard]] int pendingError(NativeSocket s) noexcept;
/// Lets a listener bind a port still in TIME_WAIT without letting a second listener share it:
/// SO_REUSEADDR on POSIX, SO_EXCLUSIVEADDRUSE on Windows (where SO_REUSEADDR would allow port stealing).
[[nodiscard]] bool setListenerAddressReuse(NativeSocket s) noexcept;

/// recv/send of one buffer, and one gather write: bytes moved, or -1 with socketError() set.
[[nodiscard]] std::ptrdiff_t recvSome(NativeSocket s, void* buf, std::size_t n) noexcept;
[[nodiscard]] std::ptrdiff_t sendSome(NativeSocket s, const void* buf, std::size_t n) noexcept;
[[nodiscard]] std::ptrdiff_t sendGather(NativeSocket s, IoVec* iov, std::size_t n) noexcept;
void shutdownSend(NativeSocket s) noexcept;
void shutdownReceive(NativeSocket s) noexcept;

/// A connected, non-blocking pair for waking the reactor: socketpair(AF_UNIX) on POSIX, a loopback TCP
/// connection on Windows (as libzmq's signaler makes it). false when it cannot be made.
[[nodiscard]] bool makeWakePair(NativeSocket& a, NativeSocket& b) noexcept;

/// Whether this system can make AF_UNIX stream sockets (Windows 10 1803+; not Wine 8), and why not.
[[nodiscard]] bool unixSocketsAvailable(std::string* why = nullptr);

/// What a path names, for UDS socket files: whether it exists, is a socket, and its identity.
struct PathInfo {
    bool exists = false;
    bool socket = false;
    std::uint64_t dev = 0;
    std::uint64_t ino = 0;
};
[[nodiscard]] PathInfo pathInfo(const std::string& path) noexcept;
void removePath(const std::string& path) noexcept;
/// This process's id (for temporary names).
[[nodiscard]] unsigned long processId() noexcept;

}  // namespace tofu::detail
