#include "socket.hpp"

#include "liveness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace tofu::detail {

void UniqueFd::reset(int fd) noexcept {
    if (fd_ >= 0) {
        ::close(fd_);  // a normal close: no SO_LINGER {1,0} reset (the original's defect 15)
    }
    fd_ = fd;
}

namespace {

int newSocket(int family) noexcept {
#ifdef SOCK_CLOEXEC
    const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
    const int fd = ::socket(family, SOCK_STREAM, 0);
    if (fd >= 0) {
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
#endif
#ifdef SO_NOSIGPIPE
    if (fd >= 0) {
        const int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
    }
#endif
    return fd;
}

// TCP: no Nagle delay; dead-peer detection as liveness.hpp describes (keepalive for idle links; never
// TCP_USER_TIMEOUT, which also closes a live receiver that only stopped reading).
void tuneTcp(int fd, int family, std::uint32_t deadPeerTimeoutMs) noexcept {
    if (family != AF_INET && family != AF_INET6) {
        return;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    applyDeadPeerOptions(fd, DeadPeerTimings::from(deadPeerTimeoutMs));
}

}  // namespace

std::string Endpoint::toString() const {
    char buf[INET6_ADDRSTRLEN] = {};
    switch (family()) {
        case AF_INET: {
            const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
            ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
            return fmt::format("{}:{}", buf, ntohs(a->sin_port));
        }
        case AF_INET6: {
            const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
            ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
            return fmt::format("[{}]:{}", buf, ntohs(a->sin6_port));
        }
        case AF_UNIX: {
            const auto* a = reinterpret_cast<const sockaddr_un*>(&addr);
            return std::string(a->sun_path);
        }
        default:
            return "?";
    }
}

bool numericEndpoint(std::string_view host, std::uint16_t port, bool forListen, Endpoint& out) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    std::string h(host);
    if (h.empty()) {
        h = forListen ? "0.0.0.0" : "127.0.0.1";
    }
    out = Endpoint{};
    auto* a4 = reinterpret_cast<sockaddr_in*>(&out.addr);
    if (::inet_pton(AF_INET, h.c_str(), &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        out.len = sizeof(sockaddr_in);
        return true;
    }
    out = Endpoint{};
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&out.addr);
    if (::inet_pton(AF_INET6, h.c_str(), &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        out.len = sizeof(sockaddr_in6);
        return true;
    }
    return false;
}

bool udsEndpoint(std::string_view path, Endpoint& out) {
    out = Endpoint{};
    auto* a = reinterpret_cast<sockaddr_un*>(&out.addr);
    if (path.empty() || path.size() > MaxUdsPathLen || path.size() >= sizeof a->sun_path ||
        path.find('\0') != std::string_view::npos) {
        return false;
    }
    a->sun_family = AF_UNIX;
    std::memcpy(a->sun_path, path.data(), path.size());
    out.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
    return true;
}

AmpeStatus resolve(std::string_view host, std::uint16_t port, std::vector<Endpoint>& out) {
    out.clear();
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    addrinfo* res = nullptr;
    const std::string h(host);
    const std::string p = std::to_string(port);
    if (h.empty() || ::getaddrinfo(h.c_str(), p.c_str(), &hints, &res) != 0 || res == nullptr) {
        return AmpeStatus::invalid_address;
    }
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
        if (ai->ai_addrlen <= sizeof(sockaddr_storage)) {
            Endpoint ep;
            std::memcpy(&ep.addr, ai->ai_addr, ai->ai_addrlen);
            ep.len = static_cast<socklen_t>(ai->ai_addrlen);
            out.push_back(ep);
        }
    }
    ::freeaddrinfo(res);
    return out.empty() ? AmpeStatus::invalid_address : AmpeStatus::success;
}

namespace {

AmpeStatus listenStatus(int err) noexcept {
    switch (err) {
        case EADDRNOTAVAIL:
        case EAFNOSUPPORT:
        case EINVAL:
            return AmpeStatus::invalid_address;
        case EADDRINUSE:
        case EACCES:
        case EPERM:
        case EROFS:
        case ENOTDIR:
        case ENOENT:
            return AmpeStatus::listen_failed;
        default:
            return AmpeStatus::unknown_error;
    }
}

AmpeStatus bindAndListen(const Endpoint& ep, UniqueFd& out) {
    UniqueFd fd(newSocket(ep.family()));
    if (!fd) {
        return AmpeStatus::listen_failed;
    }
    if (ep.family() != AF_UNIX) {
        const int one = 1;
        if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
            return AmpeStatus::setsockopt_failed;
        }
    }
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&ep.addr), ep.len) != 0 ||
        ::listen(fd.get(), SOMAXCONN) != 0) {
        return listenStatus(errno);
    }
    out = std::move(fd);
    return AmpeStatus::success;
}

// A socket file with nobody listening behind it is left over from a dead process: safe to replace.
bool staleUdsFile(const Endpoint& ep, const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) {
        return false;
    }
    UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!probe) {
        return false;
    }
    return ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&ep.addr), ep.len) != 0 &&
           errno == ECONNREFUSED;
}

}  // namespace

AmpeStatus createListener(const Configurator& cfg, UniqueFd& out) {
    Endpoint ep;
    if (const auto* tcp = cfg.get_if<TCPServerConfigurator>()) {
        if (!numericEndpoint(tcp->addr, tcp->port, true, ep)) {
            return AmpeStatus::invalid_address;
        }
        return bindAndListen(ep, out);
    }
    if (const auto* uds = cfg.get_if<UDSServerConfigurator>()) {
        if (!udsEndpoint(uds->path, ep)) {
            return AmpeStatus::invalid_address;
        }
        AmpeStatus st = bindAndListen(ep, out);
        if (st == AmpeStatus::listen_failed && staleUdsFile(ep, uds->path)) {
            ::unlink(uds->path.c_str());
            st = bindAndListen(ep, out);
        }
        return st;
    }
    return cfg.isWrong() ? cfg.status() : AmpeStatus::wrong_configuration;
}

void unlinkUdsListener(int fd) noexcept {
    sockaddr_un a{};
    socklen_t len = sizeof a;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0 && a.sun_family == AF_UNIX &&
        len > offsetof(sockaddr_un, sun_path) && a.sun_path[0] != '\0') {
        ::unlink(a.sun_path);
    }
}

AmpeStatus startConnect(const Endpoint& ep, UniqueFd& out, bool& inProgress,
                        std::uint32_t deadPeerTimeoutMs) {
    inProgress = false;
    UniqueFd fd(newSocket(ep.family()));
    if (!fd) {
        return AmpeStatus::connect_failed;
    }
    tuneTcp(fd.get(), ep.family(), deadPeerTimeoutMs);
    int rc = 0;
    do {
        rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&ep.addr), ep.len);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        switch (errno) {
            case EINPROGRESS:
            case EAGAIN:  // UDS with a full backlog: wait for writability like a TCP connect
            case EALREADY:
                inProgress = true;
                break;
            case ECONNREFUSED:
                return AmpeStatus::peer_disconnected;
            case ENOENT:
                return AmpeStatus::uds_path_not_found;
            default:
                return AmpeStatus::connect_failed;
        }
    }
    out = std::move(fd);
    return AmpeStatus::success;
}

AmpeStatus finishConnect(int fd) noexcept {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        return AmpeStatus::connect_failed;
    }
    // Writable and no error: make sure we are really connected (EALREADY is "still in progress").
    sockaddr_storage peer{};
    socklen_t plen = sizeof peer;
    return ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen) == 0 ? AmpeStatus::success
                                                                             : AmpeStatus::connect_failed;
}

AcceptResult acceptOne(int listenFd, UniqueFd& out, std::uint32_t deadPeerTimeoutMs) noexcept {
    for (;;) {
#ifdef SOCK_CLOEXEC
        const int fd = ::accept4(listenFd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
        const int fd = ::accept(listenFd, nullptr, nullptr);
        if (fd >= 0) {
            ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
            ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
#endif
        if (fd >= 0) {
            out.reset(fd);
            sockaddr_storage local{};
            socklen_t len = sizeof local;
            if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0) {
                tuneTcp(fd, local.ss_family, deadPeerTimeoutMs);
            }
#ifdef SO_NOSIGPIPE
            const int one = 1;
            ::setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
            return AcceptResult::accepted;
        }
        switch (errno) {
            case EINTR:
                continue;
            case EAGAIN:
#if EWOULDBLOCK != EAGAIN
            case EWOULDBLOCK:
#endif
                return AcceptResult::wouldBlock;
            case ECONNABORTED:
            case EPROTO:
            case EPERM:
                return AcceptResult::transient;
            case EMFILE:
            case ENFILE:
            case ENOBUFS:
            case ENOMEM:
                return AcceptResult::exhausted;
            default:
                return AcceptResult::failed;
        }
    }
}

int sendFlags() noexcept {
#ifdef MSG_NOSIGNAL
    return MSG_NOSIGNAL;
#else
    return 0;
#endif
}

}  // namespace tofu::detail
