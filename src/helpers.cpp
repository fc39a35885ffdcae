#include "tofu/helpers.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sys/stat.h>
#include <atomic>
#include <cstdlib>
#include <random>
#include <string>

#include "socket.hpp"
#include "tofu/status.hpp"

namespace tofu {

std::uint16_t findFreeTcpPort() {
    // Racy by nature: the port is free now, not reserved. Fine for tests; servers should bind port 0.
    detail::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) {
        throw AmpeError(AmpeStatus::unknown_error, "findFreeTcpPort: socket");
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        throw AmpeError(AmpeStatus::unknown_error, "findFreeTcpPort: bind");
    }
    return ntohs(a.sin_port);
}

std::string tempUdsPath() {
    static std::atomic<unsigned> counter{0};
    const char* dir = std::getenv("TMPDIR");
    std::string base = (dir != nullptr && *dir != '\0') ? dir : "/tmp";
    if (base.size() > 60) {
        base = "/tmp";  // keep the whole path well inside sun_path
    }
    std::random_device rd;
    for (int attempt = 0; attempt < 100; ++attempt) {
        std::string path = base + "/tofu-" + std::to_string(::getpid()) + "-" +
                           std::to_string(counter.fetch_add(1)) + "-" + std::to_string(rd() % 100000) +
                           ".sock";
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0) {
            return path;
        }
    }
    throw AmpeError(AmpeStatus::unknown_error, "tempUdsPath: no free name");
}

}  // namespace tofu
