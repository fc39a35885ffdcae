// Services: what a server does with the messages its channel group receives, plus an echo service,
// an echo client and the two put together. MultiHomed (multihomed.hpp) runs one Services object for
// all its listeners on one thread.
// Only tofu's public headers are used: copy services.* and multihomed.* as the start of your own server.
#pragma once

#include <tofu/tofu.hpp>

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

namespace recipes {

/// The original's Services interface. Every call comes from the server's thread.
class Services {
  public:
    virtual ~Services() = default;

    /// Once, before the first onMessage. ampe: the server's engine (get/put messages); sendTo: the
    /// server's group, for enqueueToPeer only — receiving and destroying it stay the server's duty.
    virtual void start(tofu::Ampe& ampe, tofu::ChannelGroup& sendTo) = 0;

    /// Every message the server receives, from peers and from the engine. Take msg (e.g. hand it to
    /// enqueueToPeer, or move it to a worker thread) or leave it: what is left goes back to the pool.
    /// Returns false to stop serving.
    virtual bool onMessage(tofu::MessagePtr& msg) = 0;

    /// Once, after the last onMessage.
    virtual void stop() = 0;
};

/// Answers every request with a response carrying the same message id, headers and body (the request
/// message itself, its role flipped), echoes signals back as they are (not a ByeSignal: it closes the
/// channel), and so also answers HelloRequest with HelloResponse and ByeRequest with ByeResponse. Grows the
/// pool when the engine reports pool_empty. Like the original it is lazy: after its budget of application
/// messages the next message makes it ask the server to stop. Responses from peers are ignored, and a message
/// that cannot be echoed (its channel closed meanwhile) is dropped; the original stopped serving
/// everybody in both cases.
class EchoService final : public Services {
  public:
    /// The original's budget: 1000 application messages, plus 100 for clients that leave without a Bye.
    static constexpr std::uint64_t DefaultBudget = 1000 + 100;
    /// A budget that never runs out, for a server meant to keep serving.
    static constexpr std::uint64_t Unlimited = std::numeric_limits<std::uint64_t>::max();

    /// budget: application messages (regular requests and signals) to echo before asking the server
    /// to stop.
    explicit EchoService(std::uint64_t budget = DefaultBudget) : rest_(budget) {}

    void start(tofu::Ampe& ampe, tofu::ChannelGroup& sendTo) override;
    bool onMessage(tofu::MessagePtr& msg) override;
    void stop() override;

    /// Makes the next onMessage return false (from any thread).
    void setCancel() noexcept { cancel_ = true; }
    [[nodiscard]] bool wasCancelled() const noexcept { return cancel_; }
    /// Application requests and signals echoed so far (Hello and Bye not counted).
    [[nodiscard]] std::uint64_t echoed() const noexcept { return echoed_; }
    /// What is left of the budget (read it from the server's thread, or once the server stopped).
    [[nodiscard]] std::uint64_t rest() const noexcept { return rest_; }

  private:
    tofu::Ampe* ampe_ = nullptr;
    tofu::ChannelGroup* sendTo_ = nullptr;
    std::atomic<bool> cancel_{false};
    std::uint64_t rest_;
    std::atomic<std::uint64_t> echoed_{0};
};

/// A client in its own channel group: connects in the constructor, then run() sends requests with
/// ids 1..N, checks that each response has the same id and body, and closes at once (ByeSignal, oob).
/// No reconnect: see the cookbook's reconnect recipes for that.
class EchoClient {
  public:
    /// Round trips when 0 is asked for, as in the original.
    static constexpr std::uint16_t DefaultEchoes = 256;

    /// Says Hello to cfg and waits for the HelloResponse on the caller's thread. echoes: round trips
    /// to make (0: DefaultEchoes). Throws AmpeError with the engine's status when the connection fails.
    EchoClient(tofu::Ampe& ampe, const tofu::Configurator& cfg, std::uint16_t echoes);

    /// The round trips and the close; call once, from any one thread. success, or why it stopped.
    tofu::AmpeStatus run();

    /// Round trips that came back right.
    [[nodiscard]] std::uint16_t count() const noexcept { return count_; }
    /// Round trips run() makes.
    [[nodiscard]] std::uint16_t echoes() const noexcept { return echoes_; }
    /// What run() returned (processing_failed before it ran).
    [[nodiscard]] tofu::AmpeStatus status() const noexcept { return status_; }

  private:
    tofu::MessagePtr next();  // the next message, pool_empty skipped; throws on timeout

    tofu::Ampe& ampe_;
    tofu::DestroyChannels chnls_;
    tofu::ChannelNumber channel_ = 0;
    std::uint16_t echoes_;
    std::uint16_t count_ = 0;
    tofu::AmpeStatus status_ = tofu::AmpeStatus::processing_failed;
};

class MultiHomed;

/// The echo example of the original: one engine, a MultiHomed EchoService on every server address,
/// and many EchoClients, each on its own thread. Its EchoService has an Unlimited budget, so that every
/// echo of every client is checked (the original's stopped after 1100 and accepted 1000 of 19800).
class EchoClientServer {
  public:
    /// Starts the engine and the server; throws AmpeError when a listener cannot start.
    explicit EchoClientServer(const std::vector<tofu::Configurator>& servers);
    /// Stops the server, then the engine.
    ~EchoClientServer();
    EchoClientServer(const EchoClientServer&) = delete;
    EchoClientServer& operator=(const EchoClientServer&) = delete;

    /// Connects clientsPerAddress EchoClients to every client address (one after the other), runs each on
    /// its own thread and waits for all. success when every client connected and completed all its echoes;
    /// otherwise the status of a client that failed.
    tofu::AmpeStatus run(const std::vector<tofu::Configurator>& clients, int clientsPerAddress = 99,
                         std::uint16_t echoes = 100);

    /// Round trips completed by all clients of the last run.
    [[nodiscard]] std::uint64_t echoes() const noexcept { return echoes_; }
    /// Clients that connected in the last run.
    [[nodiscard]] std::size_t clients() const noexcept { return clients_; }
    [[nodiscard]] const EchoService& service() const noexcept { return echo_; }

  private:
    std::unique_ptr<tofu::Reactor> engine_;  // declared first: destroyed last
    EchoService echo_{EchoService::Unlimited};
    std::unique_ptr<MultiHomed> mh_;
    std::uint64_t echoes_ = 0;
    std::size_t clients_ = 0;
};

}  // namespace recipes
