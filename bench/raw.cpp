// raw: blocking sockets, the same 16-byte header framing as tofu, TCP_NODELAY — the physical limit.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "contender.hpp"

namespace bench {

namespace {

using Clock = std::chrono::steady_clock;

void readAll(int fd, void* buf, std::size_t n) {
    auto* p = static_cast<char*>(buf);
    while (n > 0) {
        const ssize_t r = ::recv(fd, p, n, 0);
        if (r <= 0) {
            throw std::runtime_error("raw: recv");
        }
        p += r;
        n -= static_cast<std::size_t>(r);
    }
}

void writeAll(int fd, const void* buf, std::size_t n) {
    const auto* p = static_cast<const char*>(buf);
    while (n > 0) {
        const ssize_t r = ::send(fd, p, n, MSG_NOSIGNAL);
        if (r <= 0) {
            throw std::runtime_error("raw: send");
        }
        p += r;
        n -= static_cast<std::size_t>(r);
    }
}

class Raw final : public Contender {
  public:
    explicit Raw(bool uds) : uds_(uds) {}
    std::string name() const override { return uds_ ? "raw/uds" : "raw/tcp"; }

    std::vector<std::uint64_t> latency(std::size_t payload, std::size_t count, std::size_t warmup) override {
        Pair p = connectPair();
        std::thread server([fd = p.server, payload, n = count + warmup] {
            std::vector<char> buf(16 + payload);
            for (std::size_t i = 0; i < n; ++i) {
                readAll(fd, buf.data(), buf.size());
                writeAll(fd, buf.data(), buf.size());
            }
        });
        std::vector<char> frame(16 + payload, 'x');
        std::vector<std::uint64_t> samples;
        samples.reserve(count);
        for (std::size_t i = 0; i < count + warmup; ++i) {
            const auto t0 = Clock::now();
            writeAll(p.client, frame.data(), frame.size());
            readAll(p.client, frame.data(), frame.size());
            if (i >= warmup) {
                samples.push_back(static_cast<std::uint64_t>((Clock::now() - t0).count()));
            }
        }
        server.join();
        close(p);
        return samples;
    }

    std::uint64_t throughput(std::size_t payload, std::size_t count) override {
        Pair p = connectPair();
        std::thread server([fd = p.server, payload, count] {
            std::vector<char> buf(16 + payload);
            for (std::size_t i = 0; i < count; ++i) {
                readAll(fd, buf.data(), buf.size());
            }
            const char ack = 1;
            writeAll(fd, &ack, 1);
        });
        std::vector<char> frame(16 + payload, 'x');
        const auto t0 = Clock::now();
        for (std::size_t i = 0; i < count; ++i) {
            writeAll(p.client, frame.data(), frame.size());
        }
        char ack = 0;
        readAll(p.client, &ack, 1);
        const auto ns = static_cast<std::uint64_t>((Clock::now() - t0).count());
        server.join();
        close(p);
        return ns;
    }

  private:
    struct Pair {
        int client = -1;
        int server = -1;
    };

    Pair connectPair() {
        Pair p;
        int lfd = -1;
        if (uds_) {
            const std::string path = udsPath();
            sockaddr_un a{};
            a.sun_family = AF_UNIX;
            std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
            lfd = ::socket(AF_UNIX, SOCK_STREAM, 0);
            ::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a);
            ::listen(lfd, 1);
            p.client = ::socket(AF_UNIX, SOCK_STREAM, 0);
            if (::connect(p.client, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
                throw std::runtime_error("raw: connect");
            }
            p.server = ::accept(lfd, nullptr, nullptr);
            ::unlink(path.c_str());
        } else {
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            lfd = ::socket(AF_INET, SOCK_STREAM, 0);
            ::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a);
            socklen_t len = sizeof a;
            ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
            ::listen(lfd, 1);
            p.client = ::socket(AF_INET, SOCK_STREAM, 0);
            if (::connect(p.client, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
                throw std::runtime_error("raw: connect");
            }
            p.server = ::accept(lfd, nullptr, nullptr);
            const int one = 1;
            ::setsockopt(p.client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            ::setsockopt(p.server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
        ::close(lfd);
        return p;
    }

    static void close(Pair& p) {
        ::close(p.client);
        ::close(p.server);
    }

    bool uds_;
};

}  // namespace

void addRaw(std::vector<Entry>& out) {
    out.push_back({"raw/tcp", [] { return std::make_unique<Raw>(false); }});
    out.push_back({"raw/uds", [] { return std::make_unique<Raw>(true); }});
}

}  // namespace bench
