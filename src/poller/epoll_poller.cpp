// epoll(7) backend (Linux): level-triggered; the token travels in epoll_data; a socket is re-armed
// only when its wanted events or token change.
#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <unordered_map>

#include "poller.hpp"
#include "socket.hpp"
#include "tofu/status.hpp"

namespace tofu::detail {

namespace {

// EPOLLRDHUP (the peer half-closed) only with In: a channel that is not reading (paused) must not be
// woken, level-triggered, by a half-close it cannot act on yet.
std::uint32_t toEpoll(std::uint32_t interest) noexcept {
    std::uint32_t ev = 0;
    if ((interest & PollEvents::In) != 0) {
        ev |= EPOLLIN | EPOLLRDHUP;
    }
    if ((interest & PollEvents::Out) != 0) {
        ev |= EPOLLOUT;
    }
    return ev;
}

class EpollPoller final : public Poller {
  public:
    EpollPoller() : ep_(::epoll_create1(EPOLL_CLOEXEC)) {
        if (!ep_) {
            throw AmpeError(AmpeStatus::processing_failed, "epoll_create1 failed");
        }
    }

    void add(int fd, std::uint32_t interest, std::uint64_t token) override {
        epoll_event e{};
        e.events = toEpoll(interest);
        e.data.u64 = token;
        if (::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &e) != 0) {
            throw AmpeError(AmpeStatus::processing_failed, "epoll_ctl add failed");
        }
        state_[fd] = State{interest, token};
    }

    void modify(int fd, std::uint32_t interest, std::uint64_t token) override {
        const auto it = state_.find(fd);
        if (it == state_.end()) {
            throw AmpeError(AmpeStatus::processing_failed, "epoll: modify of an unknown fd");
        }
        if (it->second.interest == interest && it->second.token == token) {
            return;  // nothing changed: no syscall
        }
        epoll_event e{};
        e.events = toEpoll(interest);
        e.data.u64 = token;
        if (::epoll_ctl(ep_.get(), EPOLL_CTL_MOD, fd, &e) != 0) {
            throw AmpeError(AmpeStatus::processing_failed, "epoll_ctl mod failed");
        }
        it->second = State{interest, token};
    }

    void remove(int fd) noexcept override {
        if (state_.erase(fd) != 0) {
            epoll_event e{};
            ::epoll_ctl(ep_.get(), EPOLL_CTL_DEL, fd, &e);
        }
    }

    std::size_t wait(std::span<PollEvent> out, int timeout_ms) override {
        const int cap = static_cast<int>(std::min<std::size_t>(out.size(), events_.size()));
        const int rc = ::epoll_wait(ep_.get(), events_.data(), cap, timeout_ms);
        if (rc < 0) {
            if (errno == EINTR) {
                return 0;
            }
            throw AmpeError(AmpeStatus::processing_failed, "epoll_wait failed");
        }
        for (int i = 0; i < rc; ++i) {
            const std::uint32_t re = events_[i].events;
            std::uint32_t ev = 0;
            if ((re & (EPOLLIN | EPOLLRDHUP)) != 0) {
                ev |= PollEvents::In;  // a half-close reads as end of stream
            }
            if ((re & EPOLLOUT) != 0) {
                ev |= PollEvents::Out;
            }
            if ((re & EPOLLERR) != 0) {
                ev |= PollEvents::Err;
            }
            if ((re & EPOLLHUP) != 0) {
                ev |= PollEvents::Hup;
            }
            out[i] = PollEvent{events_[i].data.u64, ev};
        }
        return static_cast<std::size_t>(rc);
    }

    const char* name() const noexcept override { return "epoll"; }

  private:
    struct State {
        std::uint32_t interest;
        std::uint64_t token;
    };
    UniqueFd ep_;
    std::array<epoll_event, 256> events_{};
    std::unordered_map<int, State> state_;
};

}  // namespace

std::unique_ptr<Poller> makeEpollPoller() {
    return std::make_unique<EpollPoller>();
}

}  // namespace tofu::detail
