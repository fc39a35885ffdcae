// tofu: two engines (server and client), an echo thread on the server group, the client on this thread;
// tofu-1: one engine (one reactor thread) serving both ends.
#include <tofu/tofu.hpp>

#include <chrono>
#include <stdexcept>

#include "contender.hpp"
#include "tofu_session.hpp"

namespace bench {

namespace {

using Clock = std::chrono::steady_clock;
using Session = TofuSession;

class Tofu final : public Contender {
  public:
    Tofu(bool uds, bool oneEngine) : uds_(uds), one_(oneEngine) {}
    std::string name() const override {
        return std::string(one_ ? "tofu-1" : "tofu") + (uds_ ? "/uds" : "/tcp");
    }

    std::vector<std::uint64_t> latency(std::size_t payload, std::size_t count, std::size_t warmup) override {
        Session s(uds_, 1, benchOptions(), one_);
        std::vector<std::uint64_t> samples;
        samples.reserve(count);
        s.run([&s, n = count + warmup] { s.echo(n); },
              [&] {
                  for (std::size_t i = 0; i < count + warmup; ++i) {
                      const auto t0 = Clock::now();
                      tofu::MessagePtr req = s.message(payload, tofu::MessageRole::request);
                      s.cli->enqueueToPeer(req);
                      tofu::MessagePtr resp = s.next(*s.cli);
                      consume(resp->body.data(), resp->body.size());
                      resp.reset();  // back to the pool inside the clock, as ZeroMQ's zmq_msg_close
                      if (i >= warmup) {
                          samples.push_back(static_cast<std::uint64_t>((Clock::now() - t0).count()));
                      }
                  }
              });
        return samples;
    }

    std::uint64_t throughput(std::size_t payload, std::size_t count, std::size_t warmup) override {
        Session s(uds_, 1, benchOptions(), one_);
        std::uint64_t ns = 0;
        auto flood = [&](std::size_t n) {
            for (std::size_t i = 0; i < n; ++i) {
                tofu::MessagePtr m = s.message(payload, tofu::MessageRole::signal);
                s.cli->enqueueToPeer(m);
            }
            (void)s.next(*s.cli);
        };
        s.run(
            [&s, count, warmup] {
                s.countAndAck(warmup);
                s.countAndAck(count);
            },
            [&] {
                flood(warmup);
                const auto t0 = Clock::now();
                flood(count);
                ns = static_cast<std::uint64_t>((Clock::now() - t0).count());
            });
        return ns;
    }

    WindowResult window(std::size_t payload, std::size_t count, std::size_t warmup,
                        std::size_t outstanding) override {
        Session s(uds_, 1, benchOptions(), one_);
        auto send = [&] {
            tofu::MessagePtr req = s.message(payload, tofu::MessageRole::request);
            s.cli->enqueueToPeer(req);
        };
        auto recv = [&] {
            const tofu::MessagePtr resp = s.next(*s.cli);
            consume(resp->body.data(), resp->body.size());
        };
        WindowResult r;
        r.samples.reserve(count);
        s.run([&s, n = count + warmup] { s.echo(n); },
              [&] {
                  windowed(warmup, outstanding, send, recv, nullptr);
                  r.ns = windowed(count, outstanding, send, recv, &r.samples);
              });
        return r;
    }

    // One client group with `clients` channels (one connection each), driven by this thread; one server
    // group with an echo thread.
    std::uint64_t fanIn(std::size_t payload, std::size_t clients, std::size_t perClient) override {
        Session s(uds_, clients, benchOptions(), one_);
        std::vector<int> index(65536, -1);
        for (std::size_t i = 0; i < clients; ++i) {
            index[s.clientCns[i]] = static_cast<int>(i);
        }
        std::vector<std::size_t> left(clients);
        auto send = [&](std::size_t i) {
            tofu::MessagePtr req = s.message(payload, tofu::MessageRole::request, s.clientCns[i]);
            s.cli->enqueueToPeer(req);
        };
        auto phase = [&](std::size_t n) {
            for (std::size_t i = 0; i < clients; ++i) {
                left[i] = n;
                send(i);
            }
            for (std::size_t active = clients; active > 0;) {
                tofu::MessagePtr resp = s.next(*s.cli);
                const int i = index[resp->bhdr.channel_number];
                if (i < 0) {
                    throw std::runtime_error("tofu: response on an unknown channel");
                }
                consume(resp->body.data(), resp->body.size());
                resp.reset();
                const auto k = static_cast<std::size_t>(i);
                if (--left[k] > 0) {
                    send(k);
                } else {
                    --active;
                }
            }
        };
        std::uint64_t ns = 0;
        s.run([&s, n = clients * (perClient + 1)] { s.echo(n); },
              [&] {
                  phase(1);
                  const auto t0 = Clock::now();
                  phase(perClient);
                  ns = static_cast<std::uint64_t>((Clock::now() - t0).count());
              });
        return ns;
    }

  private:
    bool uds_;
    bool one_;
};

}  // namespace

void addTofu(std::vector<Entry>& out) {
    out.push_back({"tofu/tcp", [] { return std::make_unique<Tofu>(false, false); }});
    out.push_back({"tofu/uds", [] { return std::make_unique<Tofu>(true, false); }});
    out.push_back({"tofu-1/tcp", [] { return std::make_unique<Tofu>(false, true); }});
    out.push_back({"tofu-1/uds", [] { return std::make_unique<Tofu>(true, true); }});
}

}  // namespace bench
