#include "lingerer.hpp"

#include <algorithm>
#include <cerrno>

namespace tofu::detail {

void Lingerer::add(UniqueFd fd) noexcept {
    if (!fd || sockets_.size() >= MaxSockets) {
        return;  // closes now
    }
    const std::uint64_t token = ++seq_ << 16;
    try {
        sockets_.reserve(sockets_.size() + 1);
        poller_.add(fd.get(), PollEvents::In, token);
        sockets_.push_back(Socket{token, std::move(fd), Clock::now() + Limit});
    } catch (...) {
        // No memory, or the poller refused: the socket closes now.
    }
}

void Lingerer::onEvent(std::uint64_t token, std::span<std::uint8_t> scratch) noexcept {
    const auto it =
        std::find_if(sockets_.begin(), sockets_.end(), [token](const Socket& s) { return s.token == token; });
    if (it == sockets_.end()) {
        return;
    }
    for (;;) {
        const std::ptrdiff_t n = recvSome(it->fd.get(), scratch.data(), scratch.size());
        const int err = n < 0 ? socketError() : 0;
        if (n > 0 || err == EINTR) {
            continue;
        }
        if (err == EAGAIN || err == EWOULDBLOCK) {
            return;
        }
        break;  // end of stream or an error: the peer is done
    }
    poller_.remove(it->fd.get());
    sockets_.erase(it);
}

void Lingerer::closeDue(Clock::time_point now) noexcept {
    std::erase_if(sockets_, [this, now](const Socket& s) {
        if (now < s.until) {
            return false;
        }
        poller_.remove(s.fd.get());
        return true;
    });
}

Lingerer::Clock::time_point Lingerer::nextDue() const noexcept {
    auto soonest = Clock::time_point::max();
    for (const Socket& s : sockets_) {
        soonest = std::min(soonest, s.until);
    }
    return soonest;
}

}  // namespace tofu::detail
