// NNG: pair1 sockets over tcp:// and ipc:// (libnng from libnng-dev).
#include "contender.hpp"

#ifdef TOFU_BENCH_HAVE_NNG
#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>

#include <chrono>
#include <stdexcept>
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

    std::uint64_t throughput(std::size_t payload, std::size_t count) override {
        Pair p(ipc_);
        std::thread server([&p, payload, count] {
            std::vector<char> buf(payload + 1);
            for (std::size_t i = 0; i < count; ++i) {
                std::size_t sz = buf.size();
                nng_recv(p.server, buf.data(), &sz, 0);
            }
            char a = 'a';
            nng_send(p.server, &a, 1, 0);
        });
        std::vector<char> buf(payload + 1, 'x');
        const auto t0 = Clock::now();
        for (std::size_t i = 0; i < count; ++i) {
            nng_send(p.client, buf.data(), payload, 0);
        }
        std::size_t sz = buf.size();
        nng_recv(p.client, buf.data(), &sz, 0);
        const auto ns = static_cast<std::uint64_t>((Clock::now() - t0).count());
        server.join();
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
