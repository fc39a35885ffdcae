#include "socket.hpp"

#include "liveness.hpp"

#if !defined(_WIN32)
#include <netinet/tcp.h>  // TCP_NODELAY (Windows: winsock2.h)
#endif

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tofu/helpers.hpp"

namespace tofu::detail {

void UniqueFd::reset(NativeSocket fd) noexcept {
    if (fd_ != InvalidSocket) {
        closeSocket(fd_);  // a normal close: no SO_LINGER {1,0} reset (the original's defect 15)
    }
    fd_ = fd;
}

namespace {

// "[::1]" -> "::1": a bracketed IPv6 literal, as written in a URL.
std::string_view unbracket(std::string_view host) noexcept {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        return host.substr(1, host.size() - 2);
    }
    return host;
}

// TCP: no Nagle delay; dead-peer detection as liveness.hpp describes (keepalive for idle links; never
// TCP_USER_TIMEOUT, which also closes a live receiver that only stopped reading).
void tuneTcp(NativeSocket fd, int family, std::uint32_t deadPeerTimeoutMs) noexcept {
    if (family != AF_INET && family != AF_INET6) {
        return;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&one), sizeof one);
    applyDeadPeerOptions(fd, DeadPeerTimings::from(deadPeerTimeoutMs));
}

}  // namespace

std::string Endpoint::host() const {
    char buf[INET6_ADDRSTRLEN] = {};
    switch (family()) {
        case AF_INET:
            ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr, buf, sizeof buf);
            return buf;
        case AF_INET6:
            ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_addr, buf, sizeof buf);
            return buf;
        case AF_UNIX: {
            const auto* a = reinterpret_cast<const sockaddr_un*>(&addr);
            constexpr std::size_t off = offsetof(sockaddr_un, sun_path);
            const auto n = static_cast<std::size_t>(len);  // socklen_t is signed on Windows
            const std::size_t max =
                n > off ? std::min<std::size_t>(n - off, sizeof a->sun_path) : sizeof a->sun_path;
            return {a->sun_path, ::strnlen(a->sun_path, max)};
        }
        default:
            return "?";
    }
}

std::uint16_t Endpoint::port() const noexcept {
    switch (family()) {
        case AF_INET:
            return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
        case AF_INET6:
            return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
        default:
            return 0;
    }
}

std::string Endpoint::toString() const {
    switch (family()) {
        case AF_INET:
            return fmt::format("{}:{}", host(), port());
        case AF_INET6:
            return fmt::format("[{}]:{}", host(), port());
        default:
            return host();
    }
}

bool numericEndpoint(std::string_view host, std::uint16_t port, bool forListen, Endpoint& out) {
    host = unbracket(host);
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

std::string osFailure(std::string_view what, const std::string& address, int err) {
    return fmt::format("{} {}: {}", what, address, socketErrorText(err));
}

AmpeStatus resolve(std::string_view host, std::uint16_t port, std::vector<Endpoint>& out, std::string* why) {
    out.clear();
    host = unbracket(host);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    addrinfo* res = nullptr;
    const std::string h(host);
    const std::string p = std::to_string(port);
    const int rc = h.empty() ? EAI_NONAME : ::getaddrinfo(h.c_str(), p.c_str(), &hints, &res);
    if (rc != 0 || res == nullptr) {
        if (why != nullptr) {
            *why = fmt::format("resolve '{}': {}", h, rc != 0 ? ::gai_strerror(rc) : "no address");
        }
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

AmpeStatus bindAndListen(const Endpoint& ep, UniqueFd& out, int& err) {
    UniqueFd fd(openStreamSocket(ep.family()));
    if (!fd) {
        err = socketError();
        return AmpeStatus::listen_failed;
    }
    if (ep.family() != AF_UNIX && !setListenerAddressReuse(fd.get())) {
        err = socketError();
        return AmpeStatus::setsockopt_failed;
    }
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&ep.addr), ep.len) != 0 ||
        ::listen(fd.get(), SOMAXCONN) != 0) {
        err = socketError();
        return listenStatus(err);
    }
    out = std::move(fd);
    return AmpeStatus::success;
}

// A socket file with nobody listening behind it is left over from a dead process: safe to replace.
// The probe never blocks (it runs on the reactor thread): only ECONNREFUSED means stale; a connection
// made or pending (EAGAIN: a live listener with a full backlog) means alive.
bool staleUdsFile(const Endpoint& ep, const std::string& path) {
    if (!pathInfo(path).socket) {
        return false;
    }
    UniqueFd probe(openStreamSocket(AF_UNIX));
    if (!probe) {
        return false;
    }
    return connectSocket(probe.get(), reinterpret_cast<const sockaddr*>(&ep.addr), ep.len) == ECONNREFUSED;
}

// st, with the reason a listen failed in *why: the system's words for err, else "not an address".
AmpeStatus explainListen(AmpeStatus st, const std::string& address, int err, std::string* why) {
    if (why != nullptr && st != AmpeStatus::success) {
        *why = err != 0 ? osFailure("listen on", address, err)
                        : fmt::format("listen on {}: not an address", address);
    }
    return st;
}

AmpeStatus listenTcp(const TCPServerConfigurator& tcp, UniqueFd& out, std::string* why) {
    const std::string address = fmt::format("tcp|{}|{}", tcp.addr, tcp.port);
    Endpoint ep;
    if (!numericEndpoint(tcp.addr, tcp.port, true, ep)) {
        return explainListen(AmpeStatus::invalid_address, address, 0, why);
    }
#if defined(_WIN32)
    if (tcp.port != 0) {
        releasePortReservation(tcp.port);
    }
#endif
    int err = 0;
    const AmpeStatus st = bindAndListen(ep, out, err);
    return explainListen(st, address, err, why);
}

AmpeStatus listenUds(const UDSServerConfigurator& uds, UniqueFd& out, std::string* why) {
    std::string path = uds.path;
    if (path.empty()) {
        try {
            path = tempUdsPath();  // the original listened on a fresh temporary path as well
        } catch (const std::exception& e) {
            if (why != nullptr) {
                *why = fmt::format("listen on a temporary Unix socket: {}", e.what());
            }
            return AmpeStatus::unknown_error;
        }
    }
    const std::string address = fmt::format("uds|{}", path);
    Endpoint ep;
    if (!udsEndpoint(path, ep)) {
        return explainListen(AmpeStatus::invalid_address, address, 0, why);
    }
    int err = 0;
    AmpeStatus st = bindAndListen(ep, out, err);
    if (st == AmpeStatus::listen_failed && !uds.path.empty() && staleUdsFile(ep, path)) {
        removePath(path);
        err = 0;
        st = bindAndListen(ep, out, err);
    }
    return explainListen(st, address, err, why);
}

}  // namespace

AmpeStatus createListener(const Configurator& cfg, UniqueFd& out, std::string* why) {
    if (const auto* tcp = cfg.get_if<TCPServerConfigurator>()) {
        return listenTcp(*tcp, out, why);
    }
    if (const auto* uds = cfg.get_if<UDSServerConfigurator>()) {
        return listenUds(*uds, out, why);
    }
    if (why != nullptr) {
        *why = "a WelcomeRequest needs a ~listen_on header (tcp|IP|PORT or uds|PATH)";
    }
    return cfg.isWrong() ? cfg.status() : AmpeStatus::wrong_configuration;
}

std::uint16_t localPort(NativeSocket fd) noexcept {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        return 0;
    }
    if (a.ss_family == AF_INET) {
        return ntohs(reinterpret_cast<const sockaddr_in*>(&a)->sin_port);
    }
    if (a.ss_family == AF_INET6) {
        return ntohs(reinterpret_cast<const sockaddr_in6*>(&a)->sin6_port);
    }
    return 0;
}

UdsFileId udsFileId(NativeSocket fd) noexcept {
    const std::string path = [fd] {
        try {
            return boundUdsPath(fd);
        } catch (...) {
            return std::string();
        }
    }();
    const PathInfo info = path.empty() ? PathInfo{} : pathInfo(path);
    if (!info.exists) {
        return {};
    }
    return UdsFileId{info.dev, info.ino};
}

void unlinkUdsListener(NativeSocket fd, UdsFileId id) noexcept {
    sockaddr_un a{};
    socklen_t len = sizeof a;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0 || a.sun_family != AF_UNIX ||
        static_cast<std::size_t>(len) <= offsetof(sockaddr_un, sun_path) || a.sun_path[0] == '\0') {
        return;
    }
    try {
        const std::string path(a.sun_path, ::strnlen(a.sun_path, sizeof a.sun_path));
        const PathInfo info = pathInfo(path);
        if (info.exists && info.dev == id.dev && info.ino == id.ino) {
            removePath(path);  // still our file
        }
    } catch (...) {
        // no memory for the path: the file stays, as after a crash (the next listener replaces it)
    }
}

std::string boundUdsPath(NativeSocket fd) {
    Endpoint self;
    self.len = sizeof self.addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&self.addr), &self.len) != 0 ||
        self.family() != AF_UNIX || static_cast<std::size_t>(self.len) <= offsetof(sockaddr_un, sun_path) ||
        reinterpret_cast<const sockaddr_un*>(&self.addr)->sun_path[0] == '\0') {
        return {};  // not a Unix socket, unnamed, or abstract
    }
    return self.host();
}

std::string peerAddress(NativeSocket fd) {
    Endpoint peer;
    peer.len = sizeof peer.addr;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer.addr), &peer.len) != 0) {
        return {};
    }
    switch (peer.family()) {
        case AF_INET:
        case AF_INET6:
            return fmt::format("{}|{}|{}", TCPProto, peer.host(), peer.port());
        case AF_UNIX:
            return std::string(UDSProto) + '|' + peer.host();
        default:
            return {};
    }
}

bool removeHeader(Message& msg, std::string_view name) {
    if (!msg.thdrs.find(name)) {
        return false;
    }
    std::vector<std::pair<std::string, std::string>> keep;
    TextHeaderIterator it = msg.thdrs.hiter();
    while (std::optional<TextHeader> th = it.next()) {
        if (th->name != name) {
            keep.emplace_back(th->name, th->value);
        }
    }
    msg.thdrs.reset();
    for (const auto& [n, v] : keep) {
        msg.thdrs.append(n, v);
    }
    msg.bhdr.thl = static_cast<std::uint16_t>(std::min<std::size_t>(msg.thdrs.buffer.size(), 0xFFFF));
    return true;
}

void setListenOn(Message& msg, std::string_view value) {
    const std::string_view raw = msg.thdrs.view();
    TextHeaderIterator it = msg.thdrs.hiter();
    while (std::optional<TextHeader> th = it.next()) {
        if (th->name != ListenOnHeader) {
            continue;
        }
        // The record runs from its name to its CRLF (or the end of the headers).
        const auto begin = static_cast<std::size_t>(th->name.data() - raw.data());
        const std::size_t crlf = raw.find("\r\n", begin);
        const std::size_t end = crlf == std::string_view::npos ? raw.size() : crlf + 2;
        std::string rebuilt(raw.substr(0, begin));
        rebuilt += ListenOnHeader;
        rebuilt += ':';
        rebuilt += value;
        rebuilt += "\r\n";
        rebuilt += raw.substr(end);
        msg.thdrs.buffer.assign(rebuilt);
        msg.bhdr.thl = static_cast<std::uint16_t>(std::min<std::size_t>(msg.thdrs.buffer.size(), 0xFFFF));
        return;
    }
    msg.thdrs.append(ListenOnHeader, value);
    msg.bhdr.thl = static_cast<std::uint16_t>(std::min<std::size_t>(msg.thdrs.buffer.size(), 0xFFFF));
}

AmpeStatus startConnect(const Endpoint& ep, UniqueFd& out, bool& inProgress, std::uint32_t deadPeerTimeoutMs,
                        bool* busy, std::string* why) {
    inProgress = false;
    if (busy != nullptr) {
        *busy = false;
    }
    UniqueFd fd(openStreamSocket(ep.family()));
    if (!fd) {
        if (why != nullptr) {
            *why = osFailure("connect to", ep.toString(), socketError());
        }
        return AmpeStatus::connect_failed;
    }
    tuneTcp(fd.get(), ep.family(), deadPeerTimeoutMs);
    const int err = connectSocket(fd.get(), reinterpret_cast<const sockaddr*>(&ep.addr), ep.len);
    if (err != 0) {
        if (why != nullptr && err != EINPROGRESS) {
            *why = osFailure("connect to", ep.toString(), err);
        }
        switch (err) {
            case EINPROGRESS:
                inProgress = true;
                break;
            case EAGAIN:  // a UDS listener's backlog is full: nothing is pending, try again later
                if (busy != nullptr) {
                    *busy = true;
                }
                return AmpeStatus::connect_failed;
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

AmpeStatus finishConnect(NativeSocket fd, std::string* why, const Endpoint* ep) {
    const int err = pendingError(fd);
    if (err != 0) {
        if (why != nullptr) {
            *why = osFailure("connect to", ep != nullptr ? ep->toString() : std::string("peer"), err);
        }
        return AmpeStatus::connect_failed;
    }
    // Writable and no error: make sure we are really connected (EALREADY is "still in progress").
    sockaddr_storage peer{};
    socklen_t plen = sizeof peer;
    return ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen) == 0 ? AmpeStatus::success
                                                                             : AmpeStatus::connect_failed;
}

AcceptResult acceptOne(NativeSocket listenFd, UniqueFd& out, std::uint32_t deadPeerTimeoutMs) noexcept {
    for (;;) {
        const NativeSocket fd = acceptSocket(listenFd);
        if (fd != InvalidSocket) {
            out.reset(fd);
            sockaddr_storage local{};
            socklen_t len = sizeof local;
            if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0) {
                tuneTcp(fd, local.ss_family, deadPeerTimeoutMs);
            }
            return AcceptResult::accepted;
        }
        switch (socketError()) {
            case EINTR:
                continue;
            case EAGAIN:
#if EWOULDBLOCK != EAGAIN
            case EWOULDBLOCK:
#endif
                return AcceptResult::wouldBlock;
            case ECONNABORTED:
            case ECONNRESET:  // Windows: the peer reset before accept
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

}  // namespace tofu::detail
