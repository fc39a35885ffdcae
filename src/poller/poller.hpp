// The readiness interface the reactor sees; one backend per file (epoll, poll, kqueue, WSAPoll).
//
// Threads: a Poller belongs to the reactor thread. Every member is called from that thread only,
// except construction (makePoller) which happens before the thread starts.
//
// Semantics: level-triggered. add() registers an fd with an interest set and an opaque 64-bit token
// that wait() reports back with the fd's events (the reactor puts a channel number and a generation
// in it, so an event for a channel closed earlier in the same pass is recognised as stale).
// modify() is cheap to call every pass: backends skip the syscall when interest and token are unchanged.
// Err and Hup are reported whatever the interest (Hup: the peer closed or half-closed its side).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "platform/os_socket.hpp"
#include "tofu/options.hpp"

namespace tofu::detail {

namespace PollEvents {
inline constexpr std::uint32_t In = 1u;
inline constexpr std::uint32_t Out = 2u;
inline constexpr std::uint32_t Err = 4u;
inline constexpr std::uint32_t Hup = 8u;
}  // namespace PollEvents

struct PollEvent {
    std::uint64_t token = 0;
    std::uint32_t events = 0;  // PollEvents bits
};

class Poller {
  public:
    virtual ~Poller() = default;

    /// Registers fd. Throws AmpeError(processing_failed) when the OS refuses.
    virtual void add(NativeSocket fd, std::uint32_t interest, std::uint64_t token) = 0;
    /// Changes fd's interest and token; no syscall when both are unchanged.
    virtual void modify(NativeSocket fd, std::uint32_t interest, std::uint64_t token) = 0;
    /// Forgets fd (call before closing it).
    virtual void remove(NativeSocket fd) noexcept = 0;
    /// Waits up to timeout_ms (-1: no limit) and writes at most out.size() events.
    /// Returns how many; 0 on timeout or EINTR. Throws AmpeError(processing_failed) on other failures.
    virtual std::size_t wait(std::span<PollEvent> out, int timeout_ms) = 0;
    /// "epoll", "poll", "kqueue" or "wsapoll".
    [[nodiscard]] virtual const char* name() const noexcept = 0;
};

/// The backend for kind; automatic picks the platform's best unless the TOFU_POLLER environment
/// variable names another. Throws AmpeError(not_implemented_yet) for a backend not built here.
[[nodiscard]] std::unique_ptr<Poller> makePoller(PollerKind kind);

// Backend factories (defined only where the backend is built).
[[nodiscard]] std::unique_ptr<Poller> makePollPoller();
[[nodiscard]] std::unique_ptr<Poller> makeEpollPoller();
[[nodiscard]] std::unique_ptr<Poller> makeKqueuePoller();
[[nodiscard]] std::unique_ptr<Poller> makeWsaPollPoller();

}  // namespace tofu::detail
