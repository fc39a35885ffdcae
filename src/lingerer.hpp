// Sockets kept open after their channel closed: a channel that wrote its ByeSignal closes at once, but
// its socket stays until the peer closes too (or a limit passes), reading and dropping what still comes.
// A TCP socket closed while the peer writes answers with a reset, and a reset discards what the peer has
// not read yet of ours — the ByeSignal among it. Reactor thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

#include "poller/poller.hpp"
#include "socket.hpp"

namespace tofu::detail {

class Lingerer {
  public:
    using Clock = std::chrono::steady_clock;
    static constexpr auto Limit = std::chrono::seconds(30);
    static constexpr std::size_t MaxSockets = 1024;  // beyond: closed at once

    explicit Lingerer(Poller& poller) noexcept : poller_(poller) {}
    Lingerer(const Lingerer&) = delete;
    Lingerer& operator=(const Lingerer&) = delete;
    ~Lingerer() { closeDue(Clock::time_point::max()); }

    /// Poll tokens of lingering sockets have channel number 0, which no channel has.
    [[nodiscard]] static bool owns(std::uint64_t token) noexcept { return (token & 0xFFFFu) == 0; }

    /// Keeps fd (its write side shut) until the peer's end of stream or Limit.
    void add(UniqueFd fd) noexcept;
    /// The socket token names is readable: what came is dropped; at end of stream it closes.
    void onEvent(std::uint64_t token, std::span<std::uint8_t> scratch) noexcept;
    /// Closes the sockets whose time is up (all of them with time_point::max()).
    void closeDue(Clock::time_point now) noexcept;
    [[nodiscard]] bool empty() const noexcept { return sockets_.empty(); }
    /// The earliest time a socket is closed anyway; time_point::max() when none lingers.
    [[nodiscard]] Clock::time_point nextDue() const noexcept;

  private:
    struct Socket {
        std::uint64_t token;
        UniqueFd fd;
        Clock::time_point until;
    };

    Poller& poller_;
    std::vector<Socket> sockets_;
    std::uint64_t seq_ = 0;
};

}  // namespace tofu::detail
