#include "tofu/helpers.hpp"

#include <atomic>
#include <bitset>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <random>
#include <string>

#include "socket.hpp"
#include "tofu/status.hpp"

namespace tofu {

namespace {

// findFreeTcpPort used to close its probe socket: until a listener bound the port, anyone could take it — a
// thread of this process calling findFreeTcpPort (bind to port 0 hands the same port out again: about one
// duplicate in 100 calls here), another process, or an outgoing connection. The recipes' reconnect tests
// keep a port unbound for a thousand failed Hellos, so under "recipes: simm test" one thread's client reached
// another thread's server. Now the probe stays bound (SO_REUSEADDR, never listening) for the next
// KeptReservations calls: bind to port 0 and connect() skip a bound port, while a listener with SO_REUSEADDR
// (every tofu listener) binds it; a port handed out in the last RecentPorts calls is never handed out again.
constexpr std::size_t KeptReservations = 64;
constexpr std::size_t RecentPorts = 1024;

struct PortReservations {
    // Winsock stays started while reservations are kept: a WSACleanup would close them behind our back, and
    // their handle values, reused by the application's next sockets, would be closed by our pop_front.
    detail::SocketRuntime runtime;  // first: it outlives the sockets below
    std::mutex mutex;
    std::deque<detail::UniqueFd> kept;  // the newest at the back
    std::deque<std::uint16_t> recent;   // the newest at the back
    std::bitset<65536> handedOut;       // the ports in recent
};

PortReservations& reservations() {
    static PortReservations r;
    return r;
}

}  // namespace

std::uint16_t findFreeTcpPort() {
    PortReservations& r = reservations();  // keeps Winsock started
    const std::lock_guard<std::mutex> lock(r.mutex);
    for (int attempt = 0; attempt < 100; ++attempt) {
        detail::UniqueFd fd(detail::openStreamSocket(AF_INET));
        if (!fd) {
            throw AmpeError(AmpeStatus::unknown_error, "findFreeTcpPort: socket");
        }
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = 0;
        socklen_t len = sizeof a;
        if (!detail::setListenerAddressReuse(fd.get()) ||
            ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            throw AmpeError(AmpeStatus::unknown_error, "findFreeTcpPort: bind");
        }
        const std::uint16_t port = ntohs(a.sin_port);
        if (r.handedOut.test(port)) {
            continue;  // handed out lately, its reservation given up since: ask for another
        }
        if (r.kept.size() == KeptReservations) {
            r.kept.pop_front();
        }
        r.kept.push_back(std::move(fd));
        if (r.recent.size() == RecentPorts) {
            r.handedOut.reset(r.recent.front());
            r.recent.pop_front();
        }
        r.recent.push_back(port);
        r.handedOut.set(port);
        return port;
    }
    throw AmpeError(AmpeStatus::unknown_error, "findFreeTcpPort: no port that was not handed out lately");
}

#if defined(_WIN32)
namespace detail {
void releasePortReservation(std::uint16_t port) noexcept {
    PortReservations& r = reservations();
    const std::lock_guard<std::mutex> lock(r.mutex);
    std::erase_if(r.kept, [port](const UniqueFd& fd) { return localPort(fd.get()) == port; });
}
}  // namespace detail
#endif

std::string tempUdsPath() {
    static std::atomic<unsigned> counter{0};
    const char* dir = std::getenv("TMPDIR");
#if defined(_WIN32)
    if (dir == nullptr || *dir == '\0') {
        dir = std::getenv("TEMP");
    }
    const char* fallback = "C:\\Windows\\Temp";
#else
    const char* fallback = "/tmp";
#endif
    std::string base = (dir != nullptr && *dir != '\0') ? dir : fallback;
    if (base.size() > 60) {
        base = fallback;  // keep the whole path well inside sun_path
    }
    std::random_device rd;
    for (int attempt = 0; attempt < 100; ++attempt) {
        std::string path = base + "/tofu-" + std::to_string(detail::processId()) + "-" +
                           std::to_string(counter.fetch_add(1)) + "-" + std::to_string(rd() % 100000) +
                           ".sock";
        if (!detail::pathInfo(path).exists) {
            return path;
        }
    }
    throw AmpeError(AmpeStatus::unknown_error, "tempUdsPath: no free name");
}

}  // namespace tofu
