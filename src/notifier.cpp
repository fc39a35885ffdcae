#include "notifier.hpp"

#include <sys/socket.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/eventfd.h>
#endif

#include <fcntl.h>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace tofu::detail {

namespace {
bool setNonBlockingCloexec(int fd) noexcept {
    const int fl = ::fcntl(fd, F_GETFL);
    return fl >= 0 && ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0 && ::fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
}
}  // namespace

Notifier::Notifier(WakeKind kind) {
    int fds[2] = {-1, -1};
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
        throw AmpeError(AmpeStatus::notification_failed);
    }
    sender_.reset(fds[0]);
    receiver_.reset(fds[1]);
    if (!setNonBlockingCloexec(fds[0]) || !setNonBlockingCloexec(fds[1])) {
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
    if (event_) {
        const std::uint64_t one = 1;
        // EAGAIN only when the counter is about to overflow: the reactor is awake anyway.
        while (::write(event_.get(), &one, sizeof one) < 0 && errno == EINTR) {
        }
        return;
    }
    if (!writeByte()) {
        // Nothing was written (ENOBUFS and the like): let the next notify try again instead of
        // believing a wake-up is on its way.
        pending_.store(false, std::memory_order_release);
    }
}

bool Notifier::writeByte() noexcept {
    const std::uint8_t b = 1;
    for (;;) {
        const ssize_t rc = ::send(sender_.get(), &b, 1, sendFlags());
        if (rc == 1) {
            return true;
        }
        if (rc < 0 && errno == EINTR) {
            continue;
        }
        // EAGAIN: the pair is full of unread wakeups, so the reactor is already awake.
        return rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
}

void Notifier::drain() noexcept {
    if (event_) {
        std::uint64_t count = 0;  // one read resets the counter
        while (::read(event_.get(), &count, sizeof count) < 0 && errno == EINTR) {
        }
        return;
    }
    std::array<std::uint8_t, 256> buf{};
    for (;;) {
        const ssize_t rc = ::recv(receiver_.get(), buf.data(), buf.size(), 0);
        if ((rc > 0 && static_cast<std::size_t>(rc) == buf.size()) || (rc < 0 && errno == EINTR)) {
            continue;
        }
        break;
    }
}

void Notifier::rearm() noexcept {
    pending_.store(false, std::memory_order_seq_cst);
}

}  // namespace tofu::detail
