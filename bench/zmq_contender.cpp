// ZeroMQ: PAIR sockets over tcp:// and ipc://, one message per frame (libzmq from libzmq3-dev).
#include "contender.hpp"

#ifdef TOFU_BENCH_HAVE_ZMQ
#include <zmq.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace bench {

namespace {

using Clock = std::chrono::steady_clock;

class Zmq final : public Contender {
  public:
    explicit Zmq(bool ipc) : ipc_(ipc) {}
    std::string name() const override { return ipc_ ? "zmq/ipc" : "zmq/tcp"; }

    std::vector<std::uint64_t> latency(std::size_t payload, std::size_t count, std::size_t warmup) override {
        Pair p(ipc_);
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
        Pair p(ipc_);
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

  private:
    struct Pair {
        void* ctx = zmq_ctx_new();
        void* server = zmq_socket(ctx, ZMQ_PAIR);
        void* client = zmq_socket(ctx, ZMQ_PAIR);
        explicit Pair(bool ipc) {
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
            zmq_ctx_term(ctx);
        }
    };

    bool ipc_;
};

}  // namespace

void addZmq(std::vector<Entry>& out) {
    out.push_back({"zmq/tcp", [] { return std::make_unique<Zmq>(false); }});
    out.push_back({"zmq/ipc", [] { return std::make_unique<Zmq>(true); }});
}

}  // namespace bench
#else
namespace bench {
void addZmq(std::vector<Entry>&) {}
}  // namespace bench
#endif
