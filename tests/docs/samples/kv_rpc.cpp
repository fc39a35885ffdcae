// A complete program: a key-value RPC server and a client calling it from 4 threads, over TCP and then
// over a Unix socket. Half-way through each run the server is killed and started again on the same
// address: the client reconnects by itself and its threads carry on.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tofu/tofu.hpp>
#include <vector>

using namespace std::chrono_literals;

namespace {

// The data: "PUT key value" stores (answer "OK"), "GET key" answers the value (empty when missing).
// It outlives a server, as a database would: the restarted server finds what the killed one stored.
class Store {
  public:
    std::string apply(std::string_view cmd) {
        const std::lock_guard lk(mu_);
        if (cmd.starts_with("PUT ")) {
            const std::string_view rest = cmd.substr(4);
            const std::size_t space = rest.find(' ');
            kv_[std::string(rest.substr(0, space))] = std::string(rest.substr(space + 1));
            return "OK";
        }
        if (cmd.starts_with("GET ")) {
            const auto it = kv_.find(std::string(cmd.substr(4)));
            return it == kv_.end() ? "" : it->second;
        }
        return "ERR unknown command";
    }

  private:
    std::mutex mu_;
    std::map<std::string, std::string> kv_;
};

// The server: an engine of its own, listening on url, answering on a thread of its own. Destroying it
// kills it: its engine closes every channel at once.
class Server {
  public:
    Server(const std::string& url, Store& store)
        : reactor_(tofu::Reactor::Create()), chnls_(reactor_->ampe().createGroup()), store_(store) {
        tofu::MessagePtr welcome = reactor_->ampe().get(tofu::AllocationStrategy::always);
        tofu::parseUrl(url, tofu::UrlRole::listen).prepareRequest(*welcome);
        chnls_->enqueueToPeer(welcome);
        tofu::raw_to_error(*chnls_->waitReceive(tofu::waitReceive_FOREVER));  // throws unless listening
        thread_ = std::thread([this] { serve(); });
    }
    ~Server() {
        stop_ = true;
        chnls_->updateReceiver();  // wakes serve()
        thread_.join();
    }
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

  private:
    void serve() {
        while (!stop_) {
            tofu::MessagePtr msg = chnls_->waitReceive(tofu::waitReceive_FOREVER);
            if (msg->fromEngine() || msg->role() != tofu::MessageRole::request) {
                continue;  // close notices, pool_empty, our wake-up
            }
            if (msg->type() == tofu::MessageType::regular) {
                msg->body.assign(store_.apply(msg->text()));
            }
            msg->asResponse();  // Hello, Bye and requests: the same message goes back
            std::error_code ec;
            chnls_->enqueueToPeer(msg, ec);  // ec set: that client left meanwhile
        }
    }

    std::unique_ptr<tofu::Reactor> reactor_;
    tofu::Group chnls_;
    Store& store_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// One run over url; true when every answer was right and the client connected twice.
bool run(const std::string& url) {
    Store store;
    auto server = std::make_unique<Server>(url, store);

    std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create();
    std::atomic<int> connects{0};
    tofu::ClientOptions options;
    options.initialBackoff = 10ms;
    options.onConnected = [&](tofu::ChannelNumber ch) {
        ++connects;
        std::printf("[%s] connected, channel %u\n", url.c_str(), unsigned{ch});
    };
    tofu::Client client(reactor->ampe(), tofu::parseUrl(url, tofu::UrlRole::connect), options);

    // A call lost with the server is asked again (PUT and GET may be repeated), for 20 s at most.
    std::atomic<int> retries{0};
    auto call = [&](const std::string& cmd) {
        for (const auto until = std::chrono::steady_clock::now() + 20s;
             std::chrono::steady_clock::now() < until;) {
            std::error_code ec;
            tofu::MessagePtr answer = client.call(client.ampe().request(0, cmd), 2s, ec);
            if (!ec) {
                return std::string(answer->text());
            }
            ++retries;
        }
        throw tofu::AmpeError(tofu::AmpeStatus::communication_failed, "no answer to " + cmd);
    };

    constexpr int Threads = 4;
    constexpr int Keys = 100;
    std::atomic<int> done{0};
    std::atomic<int> wrong{0};
    std::vector<std::jthread> workers;
    for (int t = 0; t < Threads; ++t) {
        workers.emplace_back([&, t] {
            for (int k = 0; k < Keys; ++k, ++done) {
                const std::string key = std::to_string(t) + "." + std::to_string(k);
                if (call("PUT " + key + " v" + key) != "OK" || call("GET " + key) != "v" + key) {
                    ++wrong;
                }
            }
        });
    }
    while (done < Threads * Keys / 2) {
        std::this_thread::yield();
    }
    server.reset();                                 // killed half-way
    server = std::make_unique<Server>(url, store);  // and started again on the same address
    workers.clear();                                // joins the threads
    std::printf("[%s] %d calls, %d wrong, %d asked again, %d connects\n", url.c_str(), 2 * Threads * Keys,
                wrong.load(), retries.load(), connects.load());
    return wrong == 0 && connects == 2;
}

}  // namespace

int main() try {
    const bool ok = run("tcp://127.0.0.1:" + std::to_string(tofu::findFreeTcpPort())) &&
                    run("uds://" + tofu::tempUdsPath());
    return ok ? 0 : 1;
} catch (const tofu::AmpeError& e) {
    std::fprintf(stderr, "kv_rpc: %s\n", e.what());
    return 1;
}
