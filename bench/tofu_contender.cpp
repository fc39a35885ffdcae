// tofu: two engines (server and client), an echo thread on the server group, the client on this thread.
#include <tofu/tofu.hpp>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "contender.hpp"

namespace bench {

namespace {

using Clock = std::chrono::steady_clock;

class Tofu final : public Contender {
  public:
    explicit Tofu(bool uds) : uds_(uds) {}
    std::string name() const override { return uds_ ? "tofu/uds" : "tofu/tcp"; }

    std::vector<std::uint64_t> latency(std::size_t payload, std::size_t count, std::size_t warmup) override {
        Session s(uds_);
        std::thread server([&s, n = count + warmup] { s.echo(n); });
        std::vector<std::uint64_t> samples;
        samples.reserve(count);
        for (std::size_t i = 0; i < count + warmup; ++i) {
            tofu::MessagePtr req = s.message(payload, tofu::MessageRole::request);
            const auto t0 = Clock::now();
            s.cli->enqueueToPeer(req);
            tofu::MessagePtr resp = s.next(*s.cli);
            if (i >= warmup) {
                samples.push_back(static_cast<std::uint64_t>((Clock::now() - t0).count()));
            }
        }
        server.join();
        return samples;
    }

    std::uint64_t throughput(std::size_t payload, std::size_t count) override {
        Session s(uds_);
        std::thread server([&s, count] {
            for (std::size_t i = 0; i < count; ++i) {
                (void)s.next(*s.srv);
            }
            tofu::MessagePtr ack = s.srvEngine->ampe().get(tofu::AllocationStrategy::always);
            ack->bhdr.proto.role = tofu::MessageRole::signal;
            ack->bhdr.channel_number = s.serverCn;
            s.srv->enqueueToPeer(ack);
        });
        const auto t0 = Clock::now();
        for (std::size_t i = 0; i < count; ++i) {
            tofu::MessagePtr m = s.message(payload, tofu::MessageRole::signal);
            s.cli->enqueueToPeer(m);
        }
        (void)s.next(*s.cli);
        const auto ns = static_cast<std::uint64_t>((Clock::now() - t0).count());
        server.join();
        return ns;
    }

  private:
    struct Session {
        std::unique_ptr<tofu::Reactor> srvEngine = tofu::Reactor::Create();
        std::unique_ptr<tofu::Reactor> cliEngine = tofu::Reactor::Create();
        tofu::DestroyChannels srv{srvEngine->ampe()};
        tofu::DestroyChannels cli{cliEngine->ampe()};
        tofu::ChannelNumber clientCn = 0;
        tofu::ChannelNumber serverCn = 0;

        explicit Session(bool uds) {
            tofu::Configurator server, client;
            if (uds) {
                const std::string path = udsPath();
                server = tofu::UDSServerConfigurator(path);
                client = tofu::UDSClientConfigurator(path);
            } else {
                const std::uint16_t port = freePort();
                server = tofu::TCPServerConfigurator("127.0.0.1", port);
                client = tofu::TCPClientConfigurator("127.0.0.1", port);
            }
            tofu::MessagePtr welcome = srvEngine->ampe().get(tofu::AllocationStrategy::always);
            server.prepareRequest(*welcome);
            srv->enqueueToPeer(welcome);
            (void)next(*srv);
            tofu::MessagePtr hello = cliEngine->ampe().get(tofu::AllocationStrategy::always);
            client.prepareRequest(*hello);
            clientCn = cli->enqueueToPeer(hello).channel_number;
            tofu::MessagePtr req = next(*srv);
            serverCn = req->bhdr.channel_number;
            req->bhdr.proto.role = tofu::MessageRole::response;
            srv->enqueueToPeer(req);
            (void)next(*cli);
        }

        /// Next application message (engine notices such as pool_empty are skipped).
        tofu::MessagePtr next(tofu::ChannelGroup& g) {
            for (;;) {
                tofu::MessagePtr m = g.waitReceive(30 * tofu::waitReceive_SEC_TIMEOUT);
                if (!m) {
                    throw std::runtime_error("tofu: timeout");
                }
                if (m->bhdr.proto.origin == tofu::OriginFlag::application) {
                    return m;
                }
                if (tofu::raw_to_status(m->bhdr.status) != tofu::AmpeStatus::pool_empty) {
                    throw std::runtime_error("tofu: channel closed");
                }
            }
        }

        tofu::MessagePtr message(std::size_t payload, tofu::MessageRole role) {
            tofu::MessagePtr m = cliEngine->ampe().get(tofu::AllocationStrategy::always);
            m->bhdr.proto.role = role;
            m->bhdr.channel_number = clientCn;
            m->body.resize(payload);
            return m;
        }

        void echo(std::size_t n) {
            for (std::size_t i = 0; i < n; ++i) {
                tofu::MessagePtr m = next(*srv);
                m->bhdr.proto.role = tofu::MessageRole::response;
                srv->enqueueToPeer(m);
            }
        }
    };

    bool uds_;
};

}  // namespace

void addTofu(std::vector<Entry>& out) {
    out.push_back({"tofu/tcp", [] { return std::make_unique<Tofu>(false); }});
    out.push_back({"tofu/uds", [] { return std::make_unique<Tofu>(true); }});
}

}  // namespace bench
