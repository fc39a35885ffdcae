// A listening socket, opened by a WelcomeRequest: accepts connections, each a new Connection of the same
// group waiting for its HelloRequest.
#pragma once

#include <chrono>
#include <string>

#include "channel.hpp"

namespace tofu::detail {

class Listener final : public Channel {
  public:
    enum class State : std::uint8_t {
        listening,
        backingOff,  // out of descriptors or memory: accepting again after a pause
    };

    /// Opens the listener the WelcomeRequest m asks for and answers it (WelcomeResponse, or the request
    /// back with the failure).
    static void open(Loop& loop, MchnGroup& g, Message* m);

    Listener(Loop& loop, MchnGroup& g, ChannelNumber cn, std::uint32_t gen, MessageID openMid, UniqueFd fd,
             bool uds) noexcept;

    void onEvent(std::uint32_t events) override;
    void submit(Message* m) override;
    void onTimer() override;
    [[nodiscard]] ChannelStats::Kind kind() const noexcept override { return ChannelStats::Kind::listener; }
    void describe(ChannelStats& out) const override;

  private:
    [[nodiscard]] std::uint32_t interest() const noexcept override;
    void beforeClose() noexcept override;

    State state_ = State::listening;
    std::chrono::steady_clock::time_point resumeAt_{};  // backingOff: when accepting starts again
    UdsFileId udsFile_;    // removed at close only if the path still names this socket
    std::string address_;  // where it listens (tcp|IP|PORT or uds|PATH), for the log and channelStats()
};

}  // namespace tofu::detail
