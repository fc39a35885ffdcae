// ZeroMQ: PAIR sockets over tcp:// and ipc://, one message per frame (libzmq from libzmq3-dev); DEALER
// sockets to one ROUTER for the fan-in job. "zmq" gives each end its own context, so its own I/O thread (as
// two processes have: four threads in all, like tofu's two engines); "zmq-1" shares one context, so one I/O
// thread serves both ends (three threads, like tofu-1's one engine). Messages go through zmq_msg_t, the
// API that does the least work: a sender allocates a message and copies its payload in (as tofu's sender
// fills a pooled message), receivers read the payload in place, echo servers send the received message
// back without a copy.
#include "contender.hpp"

#ifdef TOFU_BENCH_HAVE_ZMQ
#include <zmq.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

namespace bench {

namespace {

using Clock = std::chrono::steady_clock;

/// Sends a new `payload`-byte message filled from payloadBytes().
void sendPayload(void* socket, std::size_t payload) {
    zmq_msg_t m;
    zmq_msg_init_size(&m, payload);
    std::memcpy(zmq_msg_data(&m), payloadBytes(payload).data(), payload);
    if (zmq_msg_send(&m, socket, 0) < 0) {
        zmq_msg_close(&m);
        throw std::runtime_error("zmq: send");
    }
}

/// Receives one message and reads its payload; false when nothing came (ZMQ_DONTWAIT) or on error.
bool recvConsume(void* socket, int flags = 0) {
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, socket, flags) < 0) {
        zmq_msg_close(&m);
        return false;
    }
    consume(zmq_msg_data(&m), zmq_msg_size(&m));
    zmq_msg_close(&m);
    return true;
}

/// Receives one message and sends it back as it is (ownership moves to ZeroMQ: no copy).
void echoOne(void* socket) {
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, socket, 0) < 0 || zmq_msg_send(&m, socket, 0) < 0) {
        zmq_msg_close(&m);
        throw std::runtime_error("zmq: echo");
    }
}

class Zmq final : public Contender {
  public:
    Zmq(bool ipc, bool shared) : ipc_(ipc), shared_(shared) {}
    std::string name() const override {
        return std::string(shared_ ? "zmq-1" : "zmq") + (ipc_ ? "/ipc" : "/tcp");
    }

    std::vector<std::uint64_t> latency(std::size_t payload, std::size_t count, std::size_t warmup) override {
        Pair p(ipc_, shared_);
        std::thread server([&p, n = count + warmup] {
            for (std::size_t i = 0; i < n; ++i) {
                echoOne(p.server);
            }
        });
        std::vector<std::uint64_t> samples;
        samples.reserve(count);
        for (std::size_t i = 0; i < count + warmup; ++i) {
            const auto t0 = Clock::now();
            sendPayload(p.client, payload);
            if (!recvConsume(p.client)) {
                throw std::runtime_error("zmq: recv");
            }
            if (i >= warmup) {
                samples.push_back(static_cast<std::uint64_t>((Clock::now() - t0).count()));
            }
        }
        server.join();
        return samples;
    }

    // The untimed warm-up flood also completes the connection (asynchronous in ZeroMQ) before the clock.
    std::uint64_t throughput(std::size_t payload, std::size_t count, std::size_t warmup) override {
        Pair p(ipc_, shared_);
        std::thread server([&p, count, warmup] {
            for (const std::size_t n : {warmup, count}) {
                for (std::size_t i = 0; i < n; ++i) {
                    if (!recvConsume(p.server)) {
                        throw std::runtime_error(
                            "zmq: recv");  // std::terminate: a failed run, never an early ack
                    }
                }
                zmq_send(p.server, "a", 1, 0);
            }
        });
        auto flood = [&](std::size_t n) {
            for (std::size_t i = 0; i < n; ++i) {
                sendPayload(p.client, payload);
            }
            if (!recvConsume(p.client)) {
                throw std::runtime_error("zmq: recv");
            }
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
        Pair p(ipc_, shared_);
        std::thread server([&p, n = count + warmup] {
            for (std::size_t i = 0; i < n; ++i) {
                echoOne(p.server);
            }
        });
        auto send = [&] { sendPayload(p.client, payload); };
        auto recv = [&] {
            if (!recvConsume(p.client)) {
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
        unlimited(router);
        const std::string ep = ipc_ ? "ipc://" + udsPath() : "tcp://127.0.0.1:" + std::to_string(freePort());
        if (zmq_bind(router, ep.c_str()) != 0) {
            throw std::runtime_error("zmq: bind");
        }
        std::vector<void*> dealers;
        std::vector<zmq_pollitem_t> items;
        for (std::size_t i = 0; i < clients; ++i) {
            void* d = zmq_socket(clientCtx, ZMQ_DEALER);
            unlimited(d);
            if (zmq_connect(d, ep.c_str()) != 0) {
                throw std::runtime_error("zmq: connect");
            }
            dealers.push_back(d);
            items.push_back(zmq_pollitem_t{d, 0, ZMQ_POLLIN, 0});
        }
        std::thread server([router, n = clients * (perClient + 1)] {
            for (std::size_t i = 0; i < n; ++i) {
                zmq_msg_t id;
                zmq_msg_t body;
                zmq_msg_init(&id);
                zmq_msg_init(&body);
                const bool ok = zmq_msg_recv(&id, router, 0) >= 0 && zmq_msg_recv(&body, router, 0) >= 0 &&
                                zmq_msg_send(&id, router, ZMQ_SNDMORE) >= 0 &&
                                zmq_msg_send(&body, router, 0) >= 0;
                zmq_msg_close(&id);
                zmq_msg_close(&body);
                if (!ok) {
                    return;
                }
            }
        });
        std::vector<std::size_t> left(clients);
        auto phase = [&](std::size_t n) {
            for (std::size_t i = 0; i < clients; ++i) {
                left[i] = n;
                sendPayload(dealers[i], payload);
            }
            for (std::size_t active = clients; active > 0;) {
                if (zmq_poll(items.data(), static_cast<int>(items.size()), -1) < 0) {
                    throw std::runtime_error("zmq: poll");
                }
                for (std::size_t i = 0; i < clients; ++i) {
                    if ((items[i].revents & ZMQ_POLLIN) == 0) {
                        continue;
                    }
                    while (recvConsume(dealers[i], ZMQ_DONTWAIT)) {
                        if (--left[i] > 0) {
                            sendPayload(dealers[i], payload);
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
    // High-water marks off (unlimited queues), as tofu's benchmark engines have no send-queue limit: no
    // silent drops and no blocking in the pipelined job.
    static void unlimited(void* socket) {
        const int hwm = 0;
        zmq_setsockopt(socket, ZMQ_SNDHWM, &hwm, sizeof hwm);
        zmq_setsockopt(socket, ZMQ_RCVHWM, &hwm, sizeof hwm);
    }

    struct Pair {
        void* ctx = zmq_ctx_new();
        void* clientCtx;
        void* server = zmq_socket(ctx, ZMQ_PAIR);
        void* client;
        Pair(bool ipc, bool shared)
            : clientCtx(shared ? ctx : zmq_ctx_new()), client(zmq_socket(clientCtx, ZMQ_PAIR)) {
            unlimited(server);
            unlimited(client);
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
