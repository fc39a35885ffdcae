// Services: what a server does with the messages its channel group receives.
// MultiHomed (multihomed.hpp) runs one Services object for all its listeners on one thread.
#pragma once

#include <tofu/tofu.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace recipes {

/// The original's Services interface: start once, onMessage for every received message, stop once.
class Services {
  public:
    virtual ~Services() = default;
    virtual void start(tofu::Ampe& ampe, tofu::ChannelGroup& sendTo) = 0;
    /// msg may be taken (moved from) or left to be returned to the pool. false: stop serving.
    virtual bool onMessage(tofu::MessagePtr& msg) = 0;
    virtual void stop() = 0;
};

/// Answers requests with responses (same id, same body) and echoes signals back; answers HelloRequest
/// and ByeRequest the same way, so it also completes handshakes. Grows the pool on pool_empty.
class EchoService final : public Services {
  public:
    explicit EchoService(std::uint32_t budget = 1000000) : rest_(budget) {}
    void start(tofu::Ampe& ampe, tofu::ChannelGroup& sendTo) override;
    bool onMessage(tofu::MessagePtr& msg) override;
    void stop() override;
    [[nodiscard]] std::uint64_t echoed() const noexcept { return echoed_.load(); }

  private:
    tofu::Ampe* ampe_ = nullptr;
    tofu::ChannelGroup* sendTo_ = nullptr;
    std::atomic<bool> cancel_{false};
    std::uint32_t rest_;
    std::atomic<std::uint64_t> echoed_{0};
};

/// Connects, sends `echoes` requests with ids 1..N and checks each response carries the same id and
/// body, then closes at once with a ByeSignal(oob). Returns the status of the run.
tofu::AmpeStatus runEchoClient(tofu::Ampe& ampe, const tofu::Configurator& cfg, std::uint16_t echoes,
                               std::uint64_t& completed);

/// One engine: a MultiHomed EchoService on every server address, and `clientsPerAddress` EchoClients
/// per client address, each on its own thread doing `echoes` round trips. success when all completed.
tofu::AmpeStatus runEchoClientServer(const std::vector<tofu::Configurator>& servers,
                                     const std::vector<tofu::Configurator>& clients, int clientsPerAddress,
                                     std::uint16_t echoes, std::uint64_t& totalEchoes);

}  // namespace recipes
