// The notifier: how application threads wake the reactor thread.
//
// A non-blocking socketpair; the reactor polls the receiving end. Wakeups are coalesced: an atomic
// "pending" flag lets only the first notification after the reactor drained the pair write a byte,
// so a burst of enqueueToPeer calls costs one syscall, not one each (the original writes one byte
// per message and can block the reactor writing to itself: defect 8/11).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>

#include "socket.hpp"
#include "tofu/message.hpp"

namespace tofu::detail {

enum class NotificationKind : std::uint8_t { message = 0, alert = 1 };
enum class Alert : std::uint8_t { freedMemory = 0, shutdownStarted = 1 };

/// The original's one-byte notification: bit 0 kind, bit 1 oob, bits 2-5 hint, bit 6 alert.
struct Notification {
    NotificationKind kind = NotificationKind::message;
    Oob oob = Oob::off;
    ValidCombination hint = ValidCombination::WelcomeRequest;
    Alert alert = Alert::freedMemory;

    [[nodiscard]] constexpr std::uint8_t pack() const noexcept {
        return static_cast<std::uint8_t>(
            (static_cast<unsigned>(kind) & 1u) | ((static_cast<unsigned>(oob) & 1u) << 1) |
            ((static_cast<unsigned>(hint) & 0xFu) << 2) | ((static_cast<unsigned>(alert) & 1u) << 6));
    }
    /// nullopt for a byte no sender writes (hint out of range or bit 7 set).
    [[nodiscard]] static constexpr std::optional<Notification> unpack(std::uint8_t b) noexcept {
        const unsigned hint = (b >> 2) & 0xFu;
        if ((b & 0x80u) != 0 || hint > static_cast<unsigned>(ValidCombination::AppSignal)) {
            return std::nullopt;
        }
        Notification n;
        n.kind = static_cast<NotificationKind>(b & 1u);
        n.oob = static_cast<Oob>((b >> 1) & 1u);
        n.hint = static_cast<ValidCombination>(hint);
        n.alert = static_cast<Alert>((b >> 6) & 1u);
        return n;
    }
    constexpr bool operator==(const Notification&) const noexcept = default;
};

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
    [[nodiscard]] int receiver() const noexcept { return event_ ? event_.get() : receiver_.get(); }

    /// Wakes the reactor unless a wakeup is already pending. Thread-safe, never blocks.
    void notify(Notification n) noexcept;

    /// Sends one byte on the socketpair whatever the pending flag (the original's sendNotification; the
    /// byte format is kept for tests and tools, the engine only needs the wake-up).
    [[nodiscard]] bool sendNotification(Notification n) noexcept;
    /// Reads one notification; nullopt when none is waiting.
    [[nodiscard]] std::optional<Notification> recvNotification() noexcept;

    /// Reactor side: reads every byte waiting (the pending flag stays set: while the reactor is busy,
    /// notifiers do not write).
    void drain() noexcept;
    /// Reactor side, once it has looked at everything: later notifies write a byte again. The caller
    /// must look once more afterwards (a notify may have come just before) — see Reactor::Impl::loop.
    void rearm() noexcept;

  private:
    UniqueFd sender_;
    UniqueFd receiver_;
    UniqueFd event_;  // set for WakeKind::eventfd
    std::atomic<bool> pending_{false};
};

}  // namespace tofu::detail
