// NNG: pair1 sockets over tcp:// and ipc:// (libnng from libnng-dev); req0 sockets to one rep0 listener for
// the fan-in job.
#include "contender.hpp"

#ifdef TOFU_BENCH_HAVE_NNG
#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <poll.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

namespace bench {

namespace {

using Clock = std::chrono::steady_clock;

class Nng final : public Contender {
  public:
    explicit Nng(bool ipc) : ipc_(ipc) {}
    std::string name() const override { return ipc_ ? "nng/ipc" : "nng/tcp"; }

    std::vector<std::uint64_t> latency(std::size_t payload, std::size_t count, std::size_t warmup) override {
        Pair p(ipc_);
        std::thread server([&p, payload, n = count + warmup] {
            std::vector<char> buf(payload + 1);
            for (std::size_t i = 0; i < n; ++i) {
                std::size_t sz = buf.size();
                nng_recv(p.server, buf.data(), &sz, 0);
                nng_send(p.server, buf.data(), sz, 0);
            }
        });
        std::vector<char> buf(payload + 1, 'x');
        std::vector<std::uint64_t> samples;
        samples.reserve(count);
        for (std::size_t i = 0; i < count + warmup; ++i) {
            const auto t0 = Clock::now();
            nng_send(p.client, buf.data(), payload, 0);
            std::size_t sz = buf.size();
            if (nng_recv(p.client, buf.data(), &sz, 0) != 0) {
                throw std::runtime_error("nng: recv");
            }
            if (i >= warmup) {
                samples.push_back(static_cast<std::uint64_t>((Clock::now() - t0).count()));
            }
        }
        server.join();
        return samples;
    }

    std::uint64_t throughput(std::size_t payload, std::size_t count, std::size_t warmup) override {
        Pair p(ipc_);
        std::thread server([&p, payload, count, warmup] {
            std::vector<char> buf(payload + 1);
            for (const std::size_t n : {warmup, count}) {
                for (std::size_t i = 0; i < n; ++i) {
                    std::size_t sz = buf.size();
                    nng_recv(p.server, buf.data(), &sz, 0);
                    consume(buf.data(), sz);
                }
                char a = 'a';
                nng_send(p.server, &a, 1, 0);
            }
        });
        std::vector<char> buf(payload + 1, 'x');
        auto flood = [&](std::size_t n) {
            for (std::size_t i = 0; i < n; ++i) {
                std::memcpy(buf.data(), payloadBytes(payload).data(), payload);
                nng_send(p.client, buf.data(), payload, 0);
            }
            std::size_t sz = buf.size();
            nng_recv(p.client, buf.data(), &sz, 0);
        };
        flood(warmup);
        const auto t0 = Clock::now();
        flood(count);
        const auto ns = static_cast<std::uint64_t>((Clock::now() - t0).count());
        server.join();
        return ns;
    }

    WindowResult window(std::size_t payload, std::size_t count, std::size_t warmup,
                        std::size_t outstanding) override {
        Pair p(ipc_);
        // Echo in both directions: buffer the way back too (Pair buffers only client->server).
        nng_socket_set_int(p.server, NNG_OPT_SENDBUF, 1024);
        nng_socket_set_int(p.client, NNG_OPT_RECVBUF, 1024);
        std::thread server([&p, payload, n = count + warmup] {
            std::vector<char> buf(payload + 1);
            for (std::size_t i = 0; i < n; ++i) {
                std::size_t sz = buf.size();
                nng_recv(p.server, buf.data(), &sz, 0);
                nng_send(p.server, buf.data(), sz, 0);
            }
        });
        std::vector<char> out(payload, 'x');
        std::vector<char> in(payload + 1);
        auto send = [&] { nng_send(p.client, out.data(), out.size(), 0); };
        auto recv = [&] {
            std::size_t sz = in.size();
            if (nng_recv(p.client, in.data(), &sz, 0) != 0) {
                throw std::runtime_error("nng: recv");
            }
        };
        windowed(warmup, outstanding, send, recv, nullptr);
        WindowResult r;
        r.samples.reserve(count);
        r.ns = windowed(count, outstanding, send, recv, &r.samples);
        server.join();
        return r;
    }

    // `clients` req0 sockets (driven by this thread: poll() over their NNG_OPT_RECVFD descriptors) to one
    // rep0 listener with an echo thread.
    std::uint64_t fanIn(std::size_t payload, std::size_t clients, std::size_t perClient) override {
        nng_socket rep{};
        nng_rep0_open(&rep);
        nng_socket_set_int(rep, NNG_OPT_RECVBUF, 1024);
        nng_socket_set_int(rep, NNG_OPT_SENDBUF, 1024);
        const std::string ep = ipc_ ? "ipc://" + udsPath() : "tcp://127.0.0.1:" + std::to_string(freePort());
        if (nng_listen(rep, ep.c_str(), nullptr, 0) != 0) {
            throw std::runtime_error("nng: listen");
        }
        std::vector<nng_socket> reqs(clients);
        std::vector<pollfd> pfds(clients);
        for (std::size_t i = 0; i < clients; ++i) {
            nng_req0_open(&reqs[i]);
            int fd = -1;
            if (nng_dial(reqs[i], ep.c_str(), nullptr, 0) != 0 ||
                nng_socket_get_int(reqs[i], NNG_OPT_RECVFD, &fd) != 0) {
                throw std::runtime_error("nng: dial");
            }
            pfds[i] = pollfd{fd, POLLIN, 0};
        }
        std::thread server([rep, n = clients * (perClient + 1)] {
            for (std::size_t i = 0; i < n; ++i) {
                nng_msg* m = nullptr;
                if (nng_recvmsg(rep, &m, 0) != 0) {
                    return;
                }
                if (nng_sendmsg(rep, m, 0) != 0) {
                    nng_msg_free(m);
                }
            }
        });
        std::vector<char> buf(payload + 1, 'x');
        std::vector<std::size_t> left(clients);
        auto phase = [&](std::size_t n) {
            for (std::size_t i = 0; i < clients; ++i) {
                left[i] = n;
                nng_send(reqs[i], buf.data(), payload, 0);
            }
            for (std::size_t active = clients; active > 0;) {
                if (::poll(pfds.data(), pfds.size(), -1) < 0) {
                    throw std::runtime_error("nng: poll");
                }
                for (std::size_t i = 0; i < clients; ++i) {
                    if ((pfds[i].revents & POLLIN) == 0) {
                        continue;
                    }
                    std::size_t sz = buf.size();
                    if (nng_recv(reqs[i], buf.data(), &sz, NNG_FLAG_NONBLOCK) != 0) {
                        continue;
                    }
                    if (--left[i] > 0) {
                        nng_send(reqs[i], buf.data(), payload, 0);
                    } else {
                        --active;
                    }
                }
            }
        };
        phase(1);
        const auto t0 = Clock::now();
        phase(perClient);
        const auto ns = static_cast<std::uint64_t>((Clock::now() - t0).count());
        server.join();
        for (nng_socket r : reqs) {
            nng_close(r);
        }
        nng_close(rep);
        return ns;
    }

  private:
    struct Pair {
        nng_socket server{};
        nng_socket client{};
        explicit Pair(bool ipc) {
            nng_pair1_open(&server);
            nng_pair1_open(&client);
            const std::string ep =
                ipc ? "ipc://" + udsPath() : "tcp://127.0.0.1:" + std::to_string(freePort());
            if (nng_listen(server, ep.c_str(), nullptr, 0) != 0 ||
                nng_dial(client, ep.c_str(), nullptr, 0) != 0) {
                throw std::runtime_error("nng: listen/dial");
            }
            // nng drops nothing on pair1 when buffers are full: sends block (back-pressure).
            nng_socket_set_int(server, NNG_OPT_RECVBUF, 1024);
            nng_socket_set_int(client, NNG_OPT_SENDBUF, 1024);
        }
        ~Pair() {
            nng_close(client);
            nng_close(server);
        }
    };

    bool ipc_;
};

}  // namespace

void addNng(std::vector<Entry>& out) {
    out.push_back({"nng/tcp", [] { return std::make_unique<Nng>(false); }});
    out.push_back({"nng/ipc", [] { return std::make_unique<Nng>(true); }});
}

}  // namespace bench
#else
namespace bench {
void addNng(std::vector<Entry>&) {}
}  // namespace bench
#endif
