// Loopback helpers shared by tofu-bench and tofu-alloc-count.
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "contender.hpp"

namespace bench {

std::span<const std::uint8_t> payloadBytes(std::size_t n) {
    static const std::vector<std::uint8_t> bytes = [] {
        std::vector<std::uint8_t> v(1 << 16);
        for (std::size_t i = 0; i < v.size(); ++i) {
            v[i] = static_cast<std::uint8_t>(i * 131 + 7);
        }
        return v;
    }();
    return {bytes.data(), std::min(n, bytes.size())};
}

std::uint16_t freePort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

namespace {

std::mutex gPathsMutex;
std::vector<std::string> gPaths;

void removePaths() {
    const std::lock_guard<std::mutex> lock(gPathsMutex);
    for (const std::string& p : gPaths) {
        ::unlink(p.c_str());
    }
}

}  // namespace

// Every path handed out is unlinked at exit: not every stack removes its socket file when it closes.
std::string udsPath() {
    static std::atomic<int> n{0};
    std::string path = fmt::format("/tmp/tofu-bench-{}-{}.sock", ::getpid(), n++);
    const std::lock_guard<std::mutex> lock(gPathsMutex);
    if (gPaths.empty()) {
        std::atexit(removePaths);
    }
    gPaths.push_back(path);
    return path;
}

}  // namespace bench
