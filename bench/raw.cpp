// raw: blocking sockets, the same 16-byte header framing as tofu, TCP_NODELAY — the physical limit. Fan-in:
// one epoll server thread, the clients driven by poll() on the calling thread.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

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

/// One frame, or false on EOF before its first byte.
bool readFrame(int fd, void* buf, std::size_t n) {
    const ssize_t r = ::recv(fd, buf, n, 0);
    if (r <= 0) {
        return false;
    }
    if (static_cast<std::size_t>(r) < n) {
        readAll(fd, static_cast<char*>(buf) + r, n - static_cast<std::size_t>(r));
    }
    return true;
}

/// The payload copied into a frame before it is sent, as the other contenders build each message.
void fill(std::vector<char>& frame, std::size_t payload) {
    std::memcpy(frame.data() + 16, payloadBytes(payload).data(), payload);
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
            fill(frame, payload);
            writeAll(p.client, frame.data(), frame.size());
            readAll(p.client, frame.data(), frame.size());
            consume(frame.data() + 16, payload);
            if (i >= warmup) {
                samples.push_back(static_cast<std::uint64_t>((Clock::now() - t0).count()));
            }
        }
        server.join();
        close(p);
        return samples;
    }

    std::uint64_t throughput(std::size_t payload, std::size_t count, std::size_t warmup) override {
        Pair p = connectPair();
        std::thread server([fd = p.server, payload, count, warmup] {
            std::vector<char> buf(16 + payload);
            for (const std::size_t n : {warmup, count}) {
                for (std::size_t i = 0; i < n; ++i) {
                    readAll(fd, buf.data(), buf.size());
                    consume(buf.data() + 16, payload);
                }
                const char ack = 1;
                writeAll(fd, &ack, 1);
            }
        });
        std::vector<char> frame(16 + payload, 'x');
        auto flood = [&](std::size_t n) {
            for (std::size_t i = 0; i < n; ++i) {
                fill(frame, payload);
                writeAll(p.client, frame.data(), frame.size());
            }
            char ack = 0;
            readAll(p.client, &ack, 1);
        };
        flood(warmup);
        const auto t0 = Clock::now();
        flood(count);
        const auto ns = static_cast<std::uint64_t>((Clock::now() - t0).count());
        server.join();
        close(p);
        return ns;
    }

    WindowResult window(std::size_t payload, std::size_t count, std::size_t warmup,
                        std::size_t outstanding) override {
        Pair p = connectPair();
        std::thread server([fd = p.server, payload, n = count + warmup] {
            std::vector<char> buf(16 + payload);
            for (std::size_t i = 0; i < n; ++i) {
                readAll(fd, buf.data(), buf.size());
                writeAll(fd, buf.data(), buf.size());
            }
        });
        std::vector<char> out(16 + payload, 'x');
        std::vector<char> in(16 + payload);
        auto send = [&] {
            fill(out, payload);
            writeAll(p.client, out.data(), out.size());
        };
        auto recv = [&] {
            readAll(p.client, in.data(), in.size());
            consume(in.data() + 16, payload);
        };
        windowed(warmup, outstanding, send, recv, nullptr);
        WindowResult r;
        r.samples.reserve(count);
        r.ns = windowed(count, outstanding, send, recv, &r.samples);
        server.join();
        close(p);
        return r;
    }

    // One server thread with epoll echoes every connection until it closes; the client side is this thread
    // with poll() over all connections.
    std::uint64_t fanIn(std::size_t payload, std::size_t clients, std::size_t perClient) override {
        Listener l = listenOn(static_cast<int>(clients) + 16);
        std::vector<int> cfd, sfd;
        for (std::size_t i = 0; i < clients; ++i) {
            cfd.push_back(dial(l));
            sfd.push_back(acceptOne(l));
        }
        closeListener(l);
        std::thread server([&sfd, payload] {
            const int ep = ::epoll_create1(0);
            for (const int fd : sfd) {
                epoll_event ev{};
                ev.events = EPOLLIN;
                ev.data.fd = fd;
                ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
            }
            std::vector<char> buf(16 + payload);
            std::vector<epoll_event> events(sfd.size());
            std::size_t open = sfd.size();
            while (open > 0) {
                const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), -1);
                for (int i = 0; i < n; ++i) {
                    const int fd = events[static_cast<std::size_t>(i)].data.fd;
                    if (!readFrame(fd, buf.data(), buf.size())) {
                        ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
                        --open;
                        continue;
                    }
                    writeAll(fd, buf.data(), buf.size());
                }
            }
            ::close(ep);
        });
        std::vector<char> frame(16 + payload, 'x');
        std::vector<pollfd> pfds(clients);
        for (std::size_t i = 0; i < clients; ++i) {
            pfds[i] = pollfd{cfd[i], POLLIN, 0};
        }
        std::vector<std::size_t> left(clients);
        auto phase = [&](std::size_t n) {
            std::size_t active = clients;
            for (std::size_t i = 0; i < clients; ++i) {
                left[i] = n;
                fill(frame, payload);
                writeAll(cfd[i], frame.data(), frame.size());
            }
            while (active > 0) {
                if (::poll(pfds.data(), pfds.size(), -1) < 0) {
                    throw std::runtime_error("raw: poll");
                }
                for (std::size_t i = 0; i < clients; ++i) {
                    if ((pfds[i].revents & POLLIN) == 0) {
                        continue;
                    }
                    readAll(cfd[i], frame.data(), frame.size());
                    consume(frame.data() + 16, payload);
                    if (--left[i] > 0) {
                        fill(frame, payload);
                        writeAll(cfd[i], frame.data(), frame.size());
                    } else {
                        --active;
                    }
                }
            }
        };
        // Closing the client ends lets the server thread see EOF everywhere and finish, also on an error.
        struct Finish {
            std::vector<int>& cfd;
            std::vector<int>& sfd;
            std::thread& server;
            ~Finish() {
                for (const int fd : cfd) {
                    ::close(fd);
                }
                server.join();
                for (const int fd : sfd) {
                    ::close(fd);
                }
            }
        } finish{cfd, sfd, server};
        phase(1);
        const auto t0 = Clock::now();
        phase(perClient);
        return static_cast<std::uint64_t>((Clock::now() - t0).count());
    }

  private:
    struct Pair {
        int client = -1;
        int server = -1;
    };

    struct Listener {
        int fd = -1;
        sockaddr_storage addr{};
        socklen_t len = 0;
        std::string path;  // UDS only
    };

    Listener listenOn(int backlog) const {
        Listener l;
        if (uds_) {
            l.path = udsPath();
            auto* a = reinterpret_cast<sockaddr_un*>(&l.addr);
            a->sun_family = AF_UNIX;
            std::strncpy(a->sun_path, l.path.c_str(), sizeof a->sun_path - 1);
            l.len = sizeof(sockaddr_un);
            l.fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        } else {
            auto* a = reinterpret_cast<sockaddr_in*>(&l.addr);
            a->sin_family = AF_INET;
            a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            l.len = sizeof(sockaddr_in);
            l.fd = ::socket(AF_INET, SOCK_STREAM, 0);
        }
        if (::bind(l.fd, reinterpret_cast<sockaddr*>(&l.addr), l.len) != 0 || ::listen(l.fd, backlog) != 0) {
            throw std::runtime_error("raw: bind/listen");
        }
        ::getsockname(l.fd, reinterpret_cast<sockaddr*>(&l.addr), &l.len);
        return l;
    }

    int dial(const Listener& l) const {
        const int fd = ::socket(uds_ ? AF_UNIX : AF_INET, SOCK_STREAM, 0);
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&l.addr), l.len) != 0) {
            throw std::runtime_error("raw: connect");
        }
        noDelay(fd);
        return fd;
    }

    int acceptOne(const Listener& l) const {
        const int fd = ::accept(l.fd, nullptr, nullptr);
        if (fd < 0) {
            throw std::runtime_error("raw: accept");
        }
        noDelay(fd);
        return fd;
    }

    static void closeListener(Listener& l) {
        ::close(l.fd);
        if (!l.path.empty()) {
            ::unlink(l.path.c_str());
        }
    }

    void noDelay(int fd) const {
        if (!uds_) {
            const int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
    }

    Pair connectPair() {
        Listener l = listenOn(1);
        Pair p;
        p.client = dial(l);
        p.server = acceptOne(l);
        closeListener(l);
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
