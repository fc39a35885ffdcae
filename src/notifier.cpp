#include "notifier.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>
#include <array>
#include <cerrno>

namespace tofu::detail {

namespace {
bool setNonBlockingCloexec(int fd) noexcept {
    const int fl = ::fcntl(fd, F_GETFL);
    return fl >= 0 && ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0 && ::fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
}
}  // namespace

Notifier::Notifier() {
    int fds[2] = {-1, -1};
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
        throw AmpeError(AmpeStatus::notification_failed);
    }
    sender_.reset(fds[0]);
    receiver_.reset(fds[1]);
    if (!setNonBlockingCloexec(fds[0]) || !setNonBlockingCloexec(fds[1])) {
        throw AmpeError(AmpeStatus::notification_failed);
    }
}

void Notifier::notify(Notification n) noexcept {
    if (pending_.exchange(true, std::memory_order_acq_rel)) {
        return;  // the reactor will see this one with the earlier wakeup
    }
    (void)sendNotification(n);
}

bool Notifier::sendNotification(Notification n) noexcept {
    const std::uint8_t b = n.pack();
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

std::optional<Notification> Notifier::recvNotification() noexcept {
    std::uint8_t b = 0;
    for (;;) {
        const ssize_t rc = ::recv(receiver_.get(), &b, 1, 0);
        if (rc == 1) {
            return Notification::unpack(b);
        }
        if (rc < 0 && errno == EINTR) {
            continue;
        }
        return std::nullopt;
    }
}

void Notifier::drain() noexcept {
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
