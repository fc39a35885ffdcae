// tofu::Client: reconnecting connection and request/response calls from several threads, against real
// engines over TCP and UDS, with the server killed and restarted mid-run.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine_test_support.hpp"
#include "test_platform.hpp"
#include "tofu/tofu.hpp"

using namespace tofu;
using namespace std::chrono_literals;

namespace {

// A server in an engine of its own, answering requests (when `answer`) on a thread of its own. Destroying it
// is killing it: its engine closes every channel at once.
class TestServer {
  public:
    explicit TestServer(const Configurator& cfg, bool answer = true)
        : rtr_(Reactor::Create()), group_(rtr_->ampe().createGroup()), answer_(answer) {
        tofu::testing::startListener(rtr_->ampe(), *group_, cfg);
        thread_ = std::thread([this] { serve(); });
    }
    ~TestServer() {
        stop_ = true;
        group_->updateReceiver();
        thread_.join();
        group_.reset();
        rtr_.reset();
    }
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    /// Requests answered so far.
    [[nodiscard]] int answered() const noexcept { return answered_; }

  private:
    void serve() {
        while (!stop_) {
            MessagePtr m = group_->waitReceive(1s);
            if (!m || m->fromEngine() || m->role() != MessageRole::request) {
                continue;
            }
            if (m->is(ValidCombination::AppRequest)) {
                if (!answer_) {
                    continue;
                }
                ++answered_;
                const std::string echo = "re: " + std::string(m->text());
                m->asResponse(echo);
            } else {
                m->asResponse();  // Hello, Bye
            }
            std::error_code ec;
            group_->enqueueToPeer(m, ec);
        }
    }

    std::unique_ptr<Reactor> rtr_;
    Group group_;
    bool answer_;
    std::atomic<bool> stop_{false};
    std::atomic<int> answered_{0};
    std::thread thread_;
};

// Counts connects and disconnects reported by a Client; waits for them with a bound.
struct Events {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<ChannelNumber> connected;
    int disconnected = 0;

    ClientOptions options() {
        ClientOptions o;
        o.initialBackoff = 10ms;
        o.maxBackoff = 100ms;
        o.onConnected = [this](ChannelNumber ch) {
            const std::lock_guard lk(mu);
            connected.push_back(ch);
            cv.notify_all();
        };
        o.onDisconnected = [this](ChannelNumber) {
            const std::lock_guard lk(mu);
            ++disconnected;
            cv.notify_all();
        };
        return o;
    }
    bool waitDisconnected(int n) {
        std::unique_lock lk(mu);
        return cv.wait_for(lk, 10s, [&] { return disconnected >= n; });
    }
};

// Four threads make calls; the server is killed after the first batch and restarted after the client saw it
// go. Every thread completes all its calls (retrying the ones that failed with the connection), each answer
// matches its question, and the client reports a second connection.
void callsSurviveRestart(const Configurator& srvCfg, const Configurator& cliCfg) {
    auto rtr = Reactor::Create();
    Events events;
    auto server = std::make_unique<TestServer>(srvCfg);
    Client client(rtr->ampe(), cliCfg, events.options());
    REQUIRE(client.waitConnected(10s) != 0);

    constexpr int Threads = 4;
    constexpr int Calls = 60;
    std::atomic<int> done{0};
    std::atomic<int> failedWithConnection{0};
    std::atomic<bool> wrongAnswer{false};
    std::vector<std::thread> callers;
    for (int t = 0; t < Threads; ++t) {
        callers.emplace_back([&, t] {
            const auto deadline = std::chrono::steady_clock::now() + 20s;
            for (int i = 0; i < Calls && std::chrono::steady_clock::now() < deadline;) {
                const std::string q = std::to_string(t) + "/" + std::to_string(i);
                std::error_code ec;
                MessagePtr r = client.call(client.ampe().request(0, q), 2s, ec);
                if (ec) {
                    // The server went away under this call: ask again once connected (bounded; the
                    // deadline above ends the thread if it never comes back).
                    ++failedWithConnection;
                    (void)client.waitConnected(1s);
                    continue;
                }
                if (r->text() != "re: " + q) {
                    wrongAnswer = true;
                }
                ++done;
                ++i;
            }
        });
    }
    const auto firstThird = std::chrono::steady_clock::now() + 20s;
    while (done < Threads * Calls / 3 && std::chrono::steady_clock::now() < firstThird) {
        std::this_thread::yield();  // the first third, then the kill
    }
    server.reset();
    REQUIRE(events.waitDisconnected(1));
    server = std::make_unique<TestServer>(srvCfg);
    for (std::thread& c : callers) {
        c.join();
    }
    const std::lock_guard lk(events.mu);
    // Shown with any failure below (an unexplained one was seen once under heavy load).
    INFO("calls done: " << done << ", failed with the connection: " << failedWithConnection
                        << ", connections: " << events.connected.size()
                        << ", disconnections: " << events.disconnected);
    REQUIRE_FALSE(wrongAnswer);
    REQUIRE(done == Threads * Calls);
    REQUIRE(events.connected.size() == 2);
    REQUIRE(client.channel() == events.connected.back());
}

}  // namespace

TEST_CASE("client: calls from 4 threads over TCP survive a server restart", "[client][tcp]") {
    const std::uint16_t port = findFreeTcpPort();
    callsSurviveRestart(TCPServerConfigurator("127.0.0.1", port), TCPClientConfigurator("127.0.0.1", port));
}

TEST_CASE("client: calls from 4 threads over UDS survive a server restart", "[client][uds]") {
    TOFU_SKIP_WITHOUT_UDS();
    const std::string path = tempUdsPath();
    callsSurviveRestart(UDSServerConfigurator(path), UDSClientConfigurator(path));
}

TEST_CASE("client: connects once the server starts, backing off meanwhile", "[client][tcp]") {
    const std::uint16_t port = findFreeTcpPort();
    auto rtr = Reactor::Create();
    Events events;
    Client client(rtr->ampe(), TCPClientConfigurator("127.0.0.1", port), events.options());
    REQUIRE(client.waitConnected(150ms) == 0);  // nobody listens yet
    // A call made while disconnected waits for the connection within its timeout.
    std::error_code ec;
    REQUIRE_FALSE(client.call(client.ampe().request(0, "early"), 50ms, ec));
    REQUIRE(ec == AmpeStatus::communication_failed);
    TestServer server(TCPServerConfigurator("127.0.0.1", port));
    MessagePtr r = client.call("late", 10s);
    REQUIRE(r->text() == "re: late");
    REQUIRE(client.channel() != 0);
}

TEST_CASE("client: gives up after maxAttempts failed connects", "[client][uds]") {
    auto rtr = Reactor::Create();
    ClientOptions o;
    o.initialBackoff = 1ms;
    o.maxBackoff = 5ms;
    o.maxAttempts = 3;
    Client client(rtr->ampe(), UDSClientConfigurator(tempUdsPath()), o);
    REQUIRE(client.waitConnected(10s) == 0);
    REQUIRE(client.gaveUp());
    std::error_code ec;
    REQUIRE_FALSE(client.call(client.ampe().request(0, "x"), 10s, ec));
    REQUIRE(ec == AmpeStatus::connect_failed);
    REQUIRE_THROWS_AS(client.call("x", 10s), AmpeError);
}

TEST_CASE("client: a call without an answer times out, close() fails calls and says bye", "[client][uds]") {
    const test::LocalAddress local = test::localAddress();  // UDS where there are Unix sockets
    auto rtr = Reactor::Create();
    TestServer silent(local.server, /*answer=*/false);
    Client client(rtr->ampe(), local.client);
    REQUIRE(client.waitConnected(10s) != 0);
    const auto start = std::chrono::steady_clock::now();
    std::error_code ec;
    REQUIRE_FALSE(client.call(client.ampe().request(0, "anyone?"), 100ms, ec));
    REQUIRE(ec == AmpeStatus::communication_failed);
    REQUIRE(std::chrono::steady_clock::now() - start < 5s);

    std::error_code wec;  // Catch2 assertions stay on this thread
    std::thread waiting([&] { (void)client.call(client.ampe().request(0, "pending"), 10s, wec); });
    client.close();  // the call fails with shutdown_started whether it is waiting already or starts later
    waiting.join();
    REQUIRE(wec == AmpeStatus::shutdown_started);
    REQUIRE(client.channel() == 0);
    REQUIRE_THROWS_AS(client.call("after close", 1s), AmpeError);
}

TEST_CASE("client: a timeout too long for the clock waits instead of failing at once", "[client][uds]") {
    const test::LocalAddress local = test::localAddress();  // UDS where there are Unix sockets
    auto rtr = Reactor::Create();
    TestServer server(local.server, /*answer=*/true);
    Client client(rtr->ampe(), local.client);
    REQUIRE(client.waitConnected(std::chrono::milliseconds::max()) != 0);
    MessagePtr answer = client.call("ping", std::chrono::milliseconds::max());
    REQUIRE(answer);
    CHECK(answer->text() == "re: ping");
}

TEST_CASE("client: a server's configurator is refused", "[client]") {
    auto rtr = Reactor::Create();
    try {
        Client client(rtr->ampe(), TCPServerConfigurator("127.0.0.1", 7099));
        FAIL("no exception");
    } catch (const AmpeError& e) {
        CHECK(e.status() == AmpeStatus::wrong_configuration);
    }
}
