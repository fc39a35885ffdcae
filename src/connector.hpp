// A HelloRequest on its way to a connection: resolves the host name (off the reactor thread), tries each
// address in turn, retries a UDS listener whose backlog is full, and once connected hands its socket and
// queue (the Hello first) to a Connection that takes its place.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "channel.hpp"
#include "send_queue.hpp"

namespace tofu::detail {

class Connector final : public Channel {
  public:
    enum class State : std::uint8_t {
        resolving,   // the host name is with the resolver
        connecting,  // a non-blocking connect is in progress
        retrying,    // a UDS listener's backlog was full: the same address again at the next timer
    };

    /// Starts connecting for the HelloRequest m, or answers it with the failure.
    static void open(Loop& loop, MchnGroup& g, Message* m);

    Connector(Loop& loop, MchnGroup& g, ChannelNumber cn, std::uint32_t gen, Message* hello) noexcept;

    void onEvent(std::uint32_t events) override;
    void submit(Message* m) override;
    void onTimer() override;
    void onResolved(Resolver::Result& r) override;
    [[nodiscard]] ChannelStats::Kind kind() const noexcept override { return ChannelStats::Kind::connector; }
    void describe(ChannelStats& out) const override;

  private:
    void connectNext();
    void connected();
    [[nodiscard]] std::uint32_t interest() const noexcept override;
    [[nodiscard]] IntrusiveQueue<Message> takeUnsent() noexcept override;

    State state_ = State::resolving;
    SendQueue out_;  // the Hello, then what the application sent meanwhile
    std::vector<Endpoint> endpoints_;
    std::size_t next_ = 0;  // the next endpoint to try
    AmpeStatus lastStatus_ = AmpeStatus::connect_failed;
    std::string failText_;  // the last failure's explanation, for the returned Hello's ~error header
    std::string target_;    // the address asked for (tcp|HOST|PORT or uds|PATH), for the ~error header
    std::chrono::milliseconds retryDelay_{0};
    std::chrono::steady_clock::time_point retryAt_{};  // retrying: when the same address is tried again
    std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
};

}  // namespace tofu::detail
