// os_socket.hpp with Winsock 2 (Windows 10 and later; mingw-w64 or MSVC).
// Differences from POSIX handled here: SOCKET handles and closesocket(), WSAGetLastError() mapped to errno
// values, FIONBIO for non-blocking, WSA_FLAG_NO_HANDLE_INHERIT instead of close-on-exec, no SIGPIPE to
// suppress, SO_EXCLUSIVEADDRUSE for listeners, WSASend for gather writes, a loopback TCP pair to wake the
// reactor (Windows has no socketpair()).
#include "platform/os_socket.hpp"

// After winsock2.h (os_socket.hpp), which it needs.
#include <mstcpip.h>

#include <array>
#include <string>
#include <system_error>

#include "tofu/status.hpp"

namespace tofu::detail {

namespace {

struct ErrorPair {
    int wsa;
    int posix;
};

// Winsock's codes that the engine tells apart, as the errno values it switches on.
constexpr std::array<ErrorPair, 27> ErrorMap{{
    {WSAEWOULDBLOCK, EWOULDBLOCK},
    {WSAEINPROGRESS, EINPROGRESS},
    {WSAEALREADY, EALREADY},
    {WSAEINTR, EINTR},
    {WSAECONNREFUSED, ECONNREFUSED},
    {WSAECONNRESET, ECONNRESET},
    {WSAECONNABORTED, ECONNABORTED},
    {WSAESHUTDOWN, EPIPE},
    {WSAENOTCONN, ENOTCONN},
    {WSAETIMEDOUT, ETIMEDOUT},
    {WSAEADDRINUSE, EADDRINUSE},
    {WSAEADDRNOTAVAIL, EADDRNOTAVAIL},
    {WSAEAFNOSUPPORT, EAFNOSUPPORT},
    {WSAEPROTONOSUPPORT, EPROTONOSUPPORT},
    {WSAEACCES, EACCES},
    {WSAEINVAL, EINVAL},
    {WSAEFAULT, EFAULT},
    {WSAEMFILE, EMFILE},
    {WSAENOBUFS, ENOBUFS},
    {WSAENOTSOCK, ENOTSOCK},
    {WSAEISCONN, EISCONN},
    {WSAENETDOWN, ENETDOWN},
    {WSAENETUNREACH, ENETUNREACH},
    {WSAEHOSTUNREACH, EHOSTUNREACH},
    {WSAENETRESET, ENETRESET},
    {WSAEMSGSIZE, EMSGSIZE},
    {WSAEOPNOTSUPP, EOPNOTSUPP},
}};

int fromWsa(int wsa) noexcept {
    for (const ErrorPair& p : ErrorMap) {
        if (p.wsa == wsa) {
            return p.posix;
        }
    }
    return wsa == 0 ? 0 : EIO;
}

int toWsa(int posix) noexcept {
    for (const ErrorPair& p : ErrorMap) {
        if (p.posix == posix) {
            return p.wsa;
        }
    }
    return 0;
}

bool setNonBlocking(SOCKET s) noexcept {
    u_long one = 1;
    return ::ioctlsocket(s, FIONBIO, &one) == 0;
}

}  // namespace

SocketRuntime::SocketRuntime() {
    WSADATA data{};
    if (const int rc = ::WSAStartup(MAKEWORD(2, 2), &data); rc != 0) {
        throw AmpeError(AmpeStatus::unknown_error, "WSAStartup failed: " + socketErrorText(fromWsa(rc)));
    }
}

SocketRuntime::~SocketRuntime() {
    ::WSACleanup();
}

int socketError() noexcept {
    return fromWsa(::WSAGetLastError());
}

std::string socketErrorText(int err) {
    const int wsa = toWsa(err);
    if (wsa == 0) {
        return std::generic_category().message(err);
    }
    // The system's words (libstdc++'s system_category() knows no Winsock codes); the code when it has none.
    char buf[256] = {};
    DWORD n = ::FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr,
                               static_cast<DWORD>(wsa), 0, buf, sizeof buf, nullptr);
    while (n > 0 && (buf[n - 1] == '\r' || buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '.')) {
        --n;
    }
    std::string text = n > 0 ? std::string(buf, n) : std::generic_category().message(err);
    return text + " (WSA error " + std::to_string(wsa) + ")";
}

NativeSocket openStreamSocket(int family) noexcept {
    const SOCKET s =
        ::WSASocketW(family, SOCK_STREAM, 0, nullptr, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
    if (s == INVALID_SOCKET) {
        return s;
    }
    if (!setNonBlocking(s)) {
        const int err = ::WSAGetLastError();
        ::closesocket(s);
        ::WSASetLastError(err);
        return INVALID_SOCKET;
    }
    return s;
}

void closeSocket(NativeSocket s) noexcept {
    ::closesocket(s);
}

NativeSocket acceptSocket(NativeSocket listener) noexcept {
    const SOCKET s = ::accept(listener, nullptr, nullptr);
    if (s == INVALID_SOCKET) {
        return s;
    }
    // An accepted socket inherits the listener's non-blocking mode; set it anyway, and no inheritance.
    ::SetHandleInformation(reinterpret_cast<HANDLE>(s), HANDLE_FLAG_INHERIT, 0);
    if (!setNonBlocking(s)) {
        const int err = ::WSAGetLastError();
        ::closesocket(s);
        ::WSASetLastError(err);
        return INVALID_SOCKET;
    }
    return s;
}

int connectSocket(NativeSocket s, const sockaddr* addr, socklen_t len) noexcept {
    if (::connect(s, addr, len) == 0) {
        return 0;
    }
    const int err = socketError();
    // A non-blocking connect under way is WSAEWOULDBLOCK on Windows (EINPROGRESS on POSIX).
    return (err == EWOULDBLOCK || err == EALREADY) ? EINPROGRESS : err;
}

int pendingError(NativeSocket s) noexcept {
    int err = 0;
    int len = sizeof err;
    if (::getsockopt(s, SOL_SOCKET, SO_ERROR, reinterpret_cast<char*>(&err), &len) != 0) {
        return socketError();
    }
    return fromWsa(err);
}

bool setListenerAddressReuse(NativeSocket s) noexcept {
    // Windows binds a port in TIME_WAIT anyway; SO_REUSEADDR there would let a second socket take over a
    // listening port. SO_EXCLUSIVEADDRUSE keeps the port to ourselves.
    const BOOL one = TRUE;
    return ::setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, reinterpret_cast<const char*>(&one),
                        sizeof one) == 0;
}

std::ptrdiff_t recvSome(NativeSocket s, void* buf, std::size_t n) noexcept {
    const int cap = n > 0x7FFFFFFF ? 0x7FFFFFFF : static_cast<int>(n);
    return ::recv(s, static_cast<char*>(buf), cap, 0);
}

std::ptrdiff_t sendSome(NativeSocket s, const void* buf, std::size_t n) noexcept {
    const int cap = n > 0x7FFFFFFF ? 0x7FFFFFFF : static_cast<int>(n);
    return ::send(s, static_cast<const char*>(buf), cap, 0);
}

std::ptrdiff_t sendGather(NativeSocket s, IoVec* iov, std::size_t n) noexcept {
    DWORD sent = 0;
    if (::WSASend(s, iov, static_cast<DWORD>(n), &sent, 0, nullptr, nullptr) != 0) {
        return -1;
    }
    return static_cast<std::ptrdiff_t>(sent);
}

void shutdownSend(NativeSocket s) noexcept {
    ::shutdown(s, SD_SEND);
}

void shutdownReceive(NativeSocket s) noexcept {
    ::shutdown(s, SD_RECEIVE);
}

bool makeWakePair(NativeSocket& a, NativeSocket& b) noexcept {
    // libzmq's signaler: listen on an ephemeral loopback port, connect, accept, close the listener. The
    // accepted end must be the one we connected (checked by address), not a stranger who raced us.
    a = InvalidSocket;
    b = InvalidSocket;
    const SOCKET listener = ::WSASocketW(AF_INET, SOCK_STREAM, 0, nullptr, 0, WSA_FLAG_NO_HANDLE_INHERIT);
    if (listener == INVALID_SOCKET) {
        return false;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int len = sizeof addr;
    const BOOL one = TRUE;
    bool ok = ::setsockopt(listener, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, reinterpret_cast<const char*>(&one),
                           sizeof one) == 0 &&
              ::bind(listener, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 &&
              ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0 &&
              ::listen(listener, 1) == 0;
    SOCKET client = INVALID_SOCKET;
    SOCKET server = INVALID_SOCKET;
    if (ok) {
        client = ::WSASocketW(AF_INET, SOCK_STREAM, 0, nullptr, 0, WSA_FLAG_NO_HANDLE_INHERIT);
        ok = client != INVALID_SOCKET &&
             ::connect(client, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
    }
    sockaddr_in mine{};
    int mlen = sizeof mine;
    ok = ok && ::getsockname(client, reinterpret_cast<sockaddr*>(&mine), &mlen) == 0;
    // Anyone may connect to the port meanwhile: strangers are closed, ours is in the backlog behind them.
    for (int attempt = 0; ok && attempt < 16; ++attempt) {
        server = ::accept(listener, nullptr, nullptr);
        sockaddr_in theirs{};
        int tlen = sizeof theirs;
        ok = server != INVALID_SOCKET;
        if (ok && ::getpeername(server, reinterpret_cast<sockaddr*>(&theirs), &tlen) == 0 &&
            mine.sin_port == theirs.sin_port && mine.sin_addr.s_addr == theirs.sin_addr.s_addr) {
            break;
        }
        if (server != INVALID_SOCKET) {
            ::closesocket(server);
            server = INVALID_SOCKET;
        }
        ok = ok && attempt + 1 < 16;
    }
    ::closesocket(listener);
    if (ok) {
        // Each wake-up is one byte: no Nagle delay on it.
        ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&one), sizeof one);
        ::setsockopt(server, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&one), sizeof one);
        ::SetHandleInformation(reinterpret_cast<HANDLE>(server), HANDLE_FLAG_INHERIT, 0);
        ok = setNonBlocking(client) && setNonBlocking(server);
    }
    if (!ok) {
        if (client != INVALID_SOCKET) {
            ::closesocket(client);
        }
        if (server != INVALID_SOCKET) {
            ::closesocket(server);
        }
        return false;
    }
    a = client;
    b = server;
    return true;
}

bool unixSocketsAvailable(std::string* why) {
    const SocketRuntime runtime;
    const SOCKET s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (s == INVALID_SOCKET) {
        const int wsa = ::WSAGetLastError();
        if (why != nullptr) {
            *why = "AF_UNIX sockets are not available here: " + socketErrorText(fromWsa(wsa));
        }
        return false;
    }
    ::closesocket(s);
    return true;
}

PathInfo pathInfo(const std::string& path) noexcept {
    // AF_UNIX socket files are reparse points: open the point itself, never what it might point to.
    const HANDLE h = ::CreateFileA(
        path.c_str(), FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
        OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS, nullptr);
    if (h == INVALID_HANDLE_VALUE) {
        return {};
    }
    BY_HANDLE_FILE_INFORMATION fi{};
    PathInfo info;
    info.exists = true;
    if (::GetFileInformationByHandle(h, &fi) != 0) {
        info.socket = (fi.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0;
        info.dev = fi.dwVolumeSerialNumber;
        info.ino = (static_cast<std::uint64_t>(fi.nFileIndexHigh) << 32) | fi.nFileIndexLow;
    }
    ::CloseHandle(h);
    return info;
}

void removePath(const std::string& path) noexcept {
    ::DeleteFileA(path.c_str());
}

unsigned long processId() noexcept {
    return ::GetCurrentProcessId();
}

}  // namespace tofu::detail
