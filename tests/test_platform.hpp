// What the tests need from the OS beyond tofu's own platform layer (src/platform/os_socket.hpp): raw blocking
// sockets, poll() on one socket, socket files, receive timeouts, and skipping what a platform cannot do
// (UDS under Wine, POSIX-only behaviour on Windows) with the reason printed.
//
// Catch2 2.13 has no SKIP: a skipped test prints "SKIP: <reason>" (WARN, seen with -s and in ctest's log)
// and passes with one SUCCEED, so that main.cpp's "no assertions" check does not fail it.
#pragma once

#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "platform/os_socket.hpp"
#include "tofu/configurator.hpp"
#include "tofu/helpers.hpp"

#if !defined(_WIN32)
#include <poll.h>
#endif

namespace tofu::test {

using detail::NativeSocket;

#if defined(_WIN32)
inline constexpr short PollIn = POLLRDNORM;
inline constexpr short PollOut = POLLWRNORM;
#else
inline constexpr short PollIn = POLLIN;
inline constexpr short PollOut = POLLOUT;
#endif

/// poll() on one socket: its revents, 0 on timeout.
inline short pollOne(NativeSocket s, short events, int timeoutMs) {
#if defined(_WIN32)
    WSAPOLLFD p{s, events, 0};
    return ::WSAPoll(&p, 1, timeoutMs) == 1 ? p.revents : 0;
#else
    pollfd p{s, events, 0};
    return ::poll(&p, 1, timeoutMs) == 1 ? p.revents : 0;
#endif
}

/// A blocking stream socket, not inherited by children.
inline NativeSocket rawSocket(int family) {
#if defined(_WIN32)
    return ::WSASocketW(family, SOCK_STREAM, 0, nullptr, 0, WSA_FLAG_NO_HANDLE_INHERIT);
#else
    return ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
#endif
}

/// SO_RCVTIMEO or SO_SNDTIMEO (a timeval on POSIX, milliseconds on Windows).
inline void setTimeout(NativeSocket s, int option, std::chrono::milliseconds t) {
#if defined(_WIN32)
    const auto ms = static_cast<DWORD>(t.count());
    ::setsockopt(s, SOL_SOCKET, option, reinterpret_cast<const char*>(&ms), sizeof ms);
#else
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(t.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
    ::setsockopt(s, SOL_SOCKET, option, &tv, sizeof tv);
#endif
}
inline void setIoTimeouts(NativeSocket s, std::chrono::milliseconds t) {
    setTimeout(s, SO_RCVTIMEO, t);
    setTimeout(s, SO_SNDTIMEO, t);
}

/// setsockopt with an int value (Winsock takes a char pointer).
inline int setIntOption(NativeSocket s, int level, int name, int value) {
    return ::setsockopt(s, level, name, reinterpret_cast<const char*>(&value), sizeof value);
}

inline bool pathExists(const std::string& path) {
    return detail::pathInfo(path).exists;
}
inline bool isSocketFile(const std::string& path) {
    return detail::pathInfo(path).socket;
}
inline void removeFile(const std::string& path) {
    detail::removePath(path);
}

/// Why this system cannot make AF_UNIX sockets (Wine 8: WSAEAFNOSUPPORT), or nothing when it can.
inline const std::optional<std::string>& udsUnavailable() {
    static const std::optional<std::string> why = [] {
        std::string reason;
        return detail::unixSocketsAvailable(&reason) ? std::nullopt : std::optional<std::string>(reason);
    }();
    return why;
}

/// Where a test that needs some local transport, not UDS as such, listens: a fresh UDS path where this system
/// has Unix sockets (POSIX; Windows 10 1803+), else 127.0.0.1 on a free port (Wine).
struct LocalAddress {
    Configurator server;
    Configurator client;
};
inline LocalAddress localAddress() {
    if (!udsUnavailable()) {
        const std::string path = tempUdsPath();
        return {Configurator(UDSServerConfigurator(path)), Configurator(UDSClientConfigurator(path))};
    }
    const std::uint16_t port = findFreeTcpPort();
    return {Configurator(TCPServerConfigurator("127.0.0.1", port)),
            Configurator(TCPClientConfigurator("127.0.0.1", port))};
}

}  // namespace tofu::test

/// Ends the running test (or the current GENERATE value) as skipped, printing the reason.
#define TOFU_SKIP(reason)                 \
    do {                                  \
        WARN("SKIP: " << (reason));       \
        SUCCEED("skipped: " << (reason)); \
        return;                           \
    } while (false)

/// Skips unless this system has Unix domain sockets.
#define TOFU_SKIP_WITHOUT_UDS()                                                    \
    do {                                                                           \
        if (const auto& tofuUdsWhy = ::tofu::test::udsUnavailable(); tofuUdsWhy) { \
            TOFU_SKIP("UDS: " + *tofuUdsWhy);                                      \
        }                                                                          \
    } while (false)

/// Skips when uds is true and this system has no Unix domain sockets (tests generated over TCP and UDS).
#define TOFU_SKIP_UDS_CASE(uds)      \
    do {                             \
        if (uds) {                   \
            TOFU_SKIP_WITHOUT_UDS(); \
        }                            \
    } while (false)
