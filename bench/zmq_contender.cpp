// ZeroMQ: PAIR sockets over tcp:// and ipc://, one message per frame (libzmq from libzmq3-dev); DEALER
// sockets to one ROUTER for the fan-in job. "zmq" gives each end its own context, so its own I/O thread (as
// two processes have: four threads in all, like tofu's two engines); "zmq-1" shares one context, so one I/O
// thread serves both ends (three threads, like tofu-1's one engine).
#include "contender.hpp"

#ifdef TOFU_BENCH_HAVE_ZMQ
#include <zmq.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

namespace bench {

namespace {

using Clock = std::chrono::steady_clock;

class Zmq final : public Contender {
  public:
    Zmq(bool ipc, bool shared) : ipc_(ipc), shared_(shared) {}
    std::string name() const override {
        return std::string(shared_ ? "zmq-1" : "zmq") + (ipc_ ? "/ipc" : "/tcp");
    }

    std::vector<std::uint64_t> latency(std::size_t payload, std::size_t count, std::size_t warmup) override {
        Pair p(ipc_, shared_);
        std::thread server([&p, payload, n = count + warmup] {
            std::vector<char> buf(payload + 1);
            for (std::size_t i = 0; i < n; ++i) {
                const int r = zmq_recv(p.server, buf.data(), buf.size(), 0);
                zmq_send(p.server, buf.data(), static_cast<std::size_t>(r), 0);
            }
        });
        std::vector<char> buf(payload + 1, 'x');
        std::vector<std::uint64_t> samples;
        samples.reserve(count);
        for (std::size_t i = 0; i < count + warmup; ++i) {
            const auto t0 = Clock::now();
            zmq_send(p.client, buf.data(), payload, 0);
            if (zmq_recv(p.client, buf.data(), buf.size(), 0) < 0) {
                throw std::runtime_error("zmq: recv");
            }
            if (i >= warmup) {
                samples.push_back(static_cast<std::uint64_t>((Clock::now() - t0).count()));
            }
        }
        server.join();
        return samples;
    }

    std::uint64_t throughput(std::size_t payload, std::size_t count) override {
        Pair p(ipc_, shared_);
        std::thread server([&p, payload, count] {
            std::vector<char> buf(payload + 1);
            for (std::size_t i = 0; i < count; ++i) {
                zmq_recv(p.server, buf.data(), buf.size(), 0);
            }
            zmq_send(p.server, "a", 1, 0);
        });
        std::vector<char> buf(payload + 1, 'x');
        const auto t0 = Clock::now();
        for (std::size_t i = 0; i < count; ++i) {
            zmq_send(p.client, buf.data(), payload, 0);
        }
        zmq_recv(p.client, buf.data(), buf.size(), 0);
        const auto ns = static_cast<std::uint64_t>((Clock::now() - t0).count());
        server.join();
        return ns;
    }

    WindowResult window(std::size_t payload, std::size_t count, std::size_t warmup,
                        std::size_t outstanding) override {
        Pair p(ipc_, shared_);
        std::thread server([&p, payload, n = count + warmup] {
            std::vector<char> buf(payload + 1);
            for (std::size_t i = 0; i < n; ++i) {
                const int r = zmq_recv(p.server, buf.data(), buf.size(), 0);
                zmq_send(p.server, buf.data(), static_cast<std::size_t>(r), 0);
            }
        });
        std::vector<char> out(payload, 'x');
        std::vector<char> in(payload + 1);
        auto send = [&] { zmq_send(p.client, out.data(), out.size(), 0); };
        auto recv = [&] {
            if (zmq_recv(p.client, in.data(), in.size(), 0) < 0) {
                throw std::runtime_error("zmq: recv");
            }
        };
        windowed(warmup, outstanding, send, recv, nullptr);
        WindowResult r;
        r.samples.reserve(count);
        r.ns = windowed(count, outstanding, send, recv, &r.samples);
        server.join();
        return r;
    }

    // `clients` DEALER sockets (driven by this thread with zmq_poll) to one ROUTER echo thread.
    std::uint64_t fanIn(std::size_t payload, std::size_t clients, std::size_t perClient) override {
        void* ctx = zmq_ctx_new();
        void* clientCtx = shared_ ? ctx : zmq_ctx_new();
        void* router = zmq_socket(ctx, ZMQ_ROUTER);
        const std::string ep = ipc_ ? "ipc://" + udsPath() : "tcp://127.0.0.1:" + std::to_string(freePort());
        if (zmq_bind(router, ep.c_str()) != 0) {
            throw std::runtime_error("zmq: bind");
        }
        std::vector<void*> dealers;
        std::vector<zmq_pollitem_t> items;
        for (std::size_t i = 0; i < clients; ++i) {
            void* d = zmq_socket(clientCtx, ZMQ_DEALER);
            if (zmq_connect(d, ep.c_str()) != 0) {
                throw std::runtime_error("zmq: connect");
            }
            dealers.push_back(d);
            items.push_back(zmq_pollitem_t{d, 0, ZMQ_POLLIN, 0});
        }
        std::thread server([router, payload, n = clients * (perClient + 1)] {
            char id[256];
            std::vector<char> buf(payload + 1);
            for (std::size_t i = 0; i < n; ++i) {
                const int idLen = zmq_recv(router, id, sizeof id, 0);
                const int r = zmq_recv(router, buf.data(), buf.size(), 0);
                if (idLen < 0 || r < 0) {
                    return;
                }
                zmq_send(router, id, static_cast<std::size_t>(idLen), ZMQ_SNDMORE);
                zmq_send(router, buf.data(), static_cast<std::size_t>(r), 0);
            }
        });
        std::vector<char> buf(payload + 1, 'x');
        std::vector<std::size_t> left(clients);
        auto phase = [&](std::size_t n) {
            for (std::size_t i = 0; i < clients; ++i) {
                left[i] = n;
                zmq_send(dealers[i], buf.data(), payload, 0);
            }
            for (std::size_t active = clients; active > 0;) {
                if (zmq_poll(items.data(), static_cast<int>(items.size()), -1) < 0) {
                    throw std::runtime_error("zmq: poll");
                }
                for (std::size_t i = 0; i < clients; ++i) {
                    if ((items[i].revents & ZMQ_POLLIN) == 0) {
                        continue;
                    }
                    while (zmq_recv(dealers[i], buf.data(), buf.size(), ZMQ_DONTWAIT) >= 0) {
                        if (--left[i] > 0) {
                            zmq_send(dealers[i], buf.data(), payload, 0);
                        } else {
                            --active;
                        }
                    }
                }
            }
        };
        phase(1);
        const auto t0 = Clock::now();
        phase(perClient);
        const auto ns = static_cast<std::uint64_t>((Clock::now() - t0).count());
        server.join();
        const int zero = 0;
        for (void* d : dealers) {
            zmq_setsockopt(d, ZMQ_LINGER, &zero, sizeof zero);
            zmq_close(d);
        }
        zmq_setsockopt(router, ZMQ_LINGER, &zero, sizeof zero);
        zmq_close(router);
        if (clientCtx != ctx) {
            zmq_ctx_term(clientCtx);
        }
        zmq_ctx_term(ctx);
        return ns;
    }

  private:
    struct Pair {
        void* ctx = zmq_ctx_new();
        void* clientCtx;
        void* server = zmq_socket(ctx, ZMQ_PAIR);
        void* client;
        Pair(bool ipc, bool shared)
            : clientCtx(shared ? ctx : zmq_ctx_new()), client(zmq_socket(clientCtx, ZMQ_PAIR)) {
            const int hwm = 0;  // unlimited queues: no silent drops in the pipelined job
            for (void* s : {server, client}) {
                zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
                zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
            }
            const std::string ep =
                ipc ? "ipc://" + udsPath() : "tcp://127.0.0.1:" + std::to_string(freePort());
            if (zmq_bind(server, ep.c_str()) != 0 || zmq_connect(client, ep.c_str()) != 0) {
                throw std::runtime_error("zmq: bind/connect");
            }
        }
        ~Pair() {
            const int zero = 0;
            zmq_setsockopt(client, ZMQ_LINGER, &zero, sizeof zero);
            zmq_setsockopt(server, ZMQ_LINGER, &zero, sizeof zero);
            zmq_close(client);
            zmq_close(server);
            if (clientCtx != ctx) {
                zmq_ctx_term(clientCtx);
            }
            zmq_ctx_term(ctx);
        }
        Pair(const Pair&) = delete;
        Pair& operator=(const Pair&) = delete;
    };

    bool ipc_;
    bool shared_;
};

}  // namespace

void addZmq(std::vector<Entry>& out) {
    out.push_back({"zmq/tcp", [] { return std::make_unique<Zmq>(false, false); }});
    out.push_back({"zmq/ipc", [] { return std::make_unique<Zmq>(true, false); }});
    out.push_back({"zmq-1/tcp", [] { return std::make_unique<Zmq>(false, true); }});
    out.push_back({"zmq-1/ipc", [] { return std::make_unique<Zmq>(true, true); }});
}

}  // namespace bench
#else
namespace bench {
void addZmq(std::vector<Entry>&) {}
}  // namespace bench
#endif
