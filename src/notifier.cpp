#include "notifier.hpp"

#if defined(__linux__)
#include <sys/eventfd.h>
#include <unistd.h>
#endif

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace tofu::detail {

Notifier::Notifier(WakeKind kind) {
    NativeSocket a = InvalidSocket;
    NativeSocket b = InvalidSocket;
    const bool made = makeWakePair(a, b);
    sender_.reset(a);  // owned (and closed) even when making the pair failed half-way
    receiver_.reset(b);
    if (!made) {
        throw AmpeError(AmpeStatus::notification_failed);
    }
#if defined(__linux__)
    if (kind == WakeKind::eventfd) {
        event_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
        if (!event_) {
            throw AmpeError(AmpeStatus::notification_failed);
        }
    }
#else
    (void)kind;
#endif
}

WakeKind Notifier::preferred() noexcept {
#if defined(__linux__)
    // Measured (docs/benchmarks.md): the socketpair wins on pipelined traffic, the eventfd's quicker
    // wake-ups cutting batches short; eventfd stays available for experiments.
    const char* env = std::getenv("TOFU_NOTIFIER");
    return (env != nullptr && std::strcmp(env, "eventfd") == 0) ? WakeKind::eventfd : WakeKind::socketpair;
#else
    return WakeKind::socketpair;
#endif
}

void Notifier::notify() noexcept {
    if (pending_.exchange(true, std::memory_order_acq_rel)) {
        return;  // the reactor will see this one with the earlier wakeup
    }
#if defined(__linux__)
    if (event_) {
        const std::uint64_t one = 1;
        // EAGAIN only when the counter is about to overflow: the reactor is awake anyway.
        while (::write(event_.get(), &one, sizeof one) < 0 && errno == EINTR) {
        }
        return;
    }
#endif
    if (!writeByte()) {
        // Nothing was written (ENOBUFS and the like): let the next notify try again instead of
        // believing a wake-up is on its way.
        pending_.store(false, std::memory_order_release);
    }
}

bool Notifier::writeByte() noexcept {
    const std::uint8_t b = 1;
    for (;;) {
        const std::ptrdiff_t rc = sendSome(sender_.get(), &b, 1);
        if (rc == 1) {
            return true;
        }
        const int err = rc < 0 ? socketError() : 0;
        if (err == EINTR) {
            continue;
        }
        // EAGAIN: the pair is full of unread wakeups, so the reactor is already awake.
        return err == EAGAIN || err == EWOULDBLOCK;
    }
}

void Notifier::drain() noexcept {
#if defined(__linux__)
    if (event_) {
        std::uint64_t count = 0;  // one read resets the counter
        while (::read(event_.get(), &count, sizeof count) < 0 && errno == EINTR) {
        }
        return;
    }
#endif
    std::array<std::uint8_t, 256> buf{};
    for (;;) {
        const std::ptrdiff_t rc = recvSome(receiver_.get(), buf.data(), buf.size());
        if ((rc > 0 && static_cast<std::size_t>(rc) == buf.size()) || (rc < 0 && socketError() == EINTR)) {
            continue;
        }
        break;
    }
}

void Notifier::rearm() noexcept {
    pending_.store(false, std::memory_order_seq_cst);
}

}  // namespace tofu::detail
