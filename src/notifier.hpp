// The notifier: how application threads wake the reactor thread.
//
// A non-blocking socketpair (a loopback TCP pair on Windows: platform/os_socket.hpp); the reactor polls
// the receiving end. Wakeups are coalesced: an atomic
// "pending" flag lets only the first notification after the reactor drained the pair write a byte,
// so a burst of enqueueToPeer calls costs one syscall, not one each. The byte carries nothing: what to
// do is in the inbox (the original packed a hint into it, wrote one per message and could block the
// reactor writing to itself).
#pragma once

#include <atomic>
#include <cstdint>

#include "socket.hpp"

namespace tofu::detail {

/// How notify() wakes the reactor: a byte on the socketpair (portable, the original's way) or an eventfd
/// counter (Linux: one 8-byte write and read, lighter than a socket send and receive).
enum class WakeKind : std::uint8_t { socketpair, eventfd };

class Notifier {
  public:
    /// Throws AmpeError(notification_failed) when the socketpair (or the eventfd) cannot be made.
    explicit Notifier(WakeKind kind = WakeKind::socketpair);

    /// The socketpair, unless the environment says TOFU_NOTIFIER=eventfd (Linux).
    [[nodiscard]] static WakeKind preferred() noexcept;
    [[nodiscard]] WakeKind kind() const noexcept { return event_ ? WakeKind::eventfd : WakeKind::socketpair; }

    /// The fd the reactor polls for In: the one notify() makes readable.
    [[nodiscard]] NativeSocket receiver() const noexcept { return event_ ? event_.get() : receiver_.get(); }

    /// Wakes the reactor unless a wakeup is already pending. Thread-safe, never blocks.
    void notify() noexcept;

    /// Reactor side: reads every byte waiting (the pending flag stays set: while the reactor is busy,
    /// notifiers do not write).
    void drain() noexcept;
    /// Reactor side, once it has looked at everything: later notifies write a byte again. The caller
    /// must look once more afterwards (a notify may have come just before) — see Reactor::Impl::loop.
    void rearm() noexcept;

  private:
    [[nodiscard]] bool writeByte() noexcept;  // false: nothing written, no wake-up on its way

    UniqueFd sender_;
    UniqueFd receiver_;
    UniqueFd event_;  // set for WakeKind::eventfd (a file descriptor, never a Windows SOCKET)
    std::atomic<bool> pending_{false};
};

}  // namespace tofu::detail
