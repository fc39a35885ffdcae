// os_socket.hpp with BSD sockets (Linux, macOS, the BSDs).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "platform/os_socket.hpp"

namespace tofu::detail {

namespace {
bool setNonBlockingCloexec(int fd) noexcept {
    const int fl = ::fcntl(fd, F_GETFL);
    return fl >= 0 && ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0 && ::fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
}

void noSigpipe([[maybe_unused]] int fd) noexcept {
#ifdef SO_NOSIGPIPE
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
}

// MSG_NOSIGNAL where it exists (SO_NOSIGPIPE is set on the socket elsewhere).
constexpr int SendFlags =
#ifdef MSG_NOSIGNAL
    MSG_NOSIGNAL;
#else
    0;
#endif
}  // namespace

SocketRuntime::SocketRuntime() = default;  // out of line: a guard object, not an unused variable

int socketError() noexcept {
    return errno;
}

std::string socketErrorText(int err) {
    return std::strerror(err);
}

NativeSocket openStreamSocket(int family) noexcept {
#ifdef SOCK_CLOEXEC
    const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
    const int fd = ::socket(family, SOCK_STREAM, 0);
    if (fd >= 0) {
        setNonBlockingCloexec(fd);
    }
#endif
    if (fd >= 0) {
        noSigpipe(fd);
    }
    return fd;
}

void closeSocket(NativeSocket s) noexcept {
    ::close(s);  // a normal close: no SO_LINGER {1,0} reset (the original's defect 15)
}

NativeSocket acceptSocket(NativeSocket listener) noexcept {
    for (;;) {
#ifdef SOCK_CLOEXEC
        const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
        const int fd = ::accept(listener, nullptr, nullptr);
        if (fd >= 0) {
            setNonBlockingCloexec(fd);
        }
#endif
        if (fd >= 0) {
            noSigpipe(fd);
            return fd;
        }
        if (errno != EINTR) {
            return InvalidSocket;
        }
    }
}

int connectSocket(NativeSocket s, const sockaddr* addr, socklen_t len) noexcept {
    for (;;) {
        if (::connect(s, addr, len) == 0) {
            return 0;
        }
        if (errno != EINTR) {
            return errno == EALREADY ? EINPROGRESS : errno;
        }
    }
}

int pendingError(NativeSocket s) noexcept {
    int err = 0;
    socklen_t len = sizeof err;
    return ::getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) == 0 ? err : errno;
}

bool setListenerAddressReuse(NativeSocket s) noexcept {
    const int one = 1;
    return ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0;
}

std::ptrdiff_t recvSome(NativeSocket s, void* buf, std::size_t n) noexcept {
    return ::recv(s, buf, n, 0);
}

std::ptrdiff_t sendSome(NativeSocket s, const void* buf, std::size_t n) noexcept {
    return ::send(s, buf, n, SendFlags);
}

std::ptrdiff_t sendGather(NativeSocket s, IoVec* iov, std::size_t n) noexcept {
    msghdr mh{};
    mh.msg_iov = iov;
    mh.msg_iovlen = n;
    return ::sendmsg(s, &mh, SendFlags);
}

void shutdownSend(NativeSocket s) noexcept {
    ::shutdown(s, SHUT_WR);
}

void shutdownReceive(NativeSocket s) noexcept {
    ::shutdown(s, SHUT_RD);
}

bool makeWakePair(NativeSocket& a, NativeSocket& b) noexcept {
    int fds[2] = {-1, -1};
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
        return false;
    }
    a = fds[0];
    b = fds[1];
    return setNonBlockingCloexec(a) && setNonBlockingCloexec(b);
}

bool unixSocketsAvailable(std::string* /*why*/) {
    return true;
}

PathInfo pathInfo(const std::string& path) noexcept {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        return {};
    }
    return PathInfo{true, S_ISSOCK(st.st_mode), static_cast<std::uint64_t>(st.st_dev),
                    static_cast<std::uint64_t>(st.st_ino)};
}

void removePath(const std::string& path) noexcept {
    ::unlink(path.c_str());
}

unsigned long processId() noexcept {
    return static_cast<unsigned long>(::getpid());
}

}  // namespace tofu::detail
