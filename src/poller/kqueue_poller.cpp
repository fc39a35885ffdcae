// kqueue(2) backend (macOS, BSD): EVFILT_READ / EVFILT_WRITE, each added or deleted only when the
// wanted events change. Built only where <sys/event.h> exists; not exercised by Linux CI.
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
#include <sys/event.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <unordered_map>

#include "poller.hpp"
#include "socket.hpp"
#include "tofu/status.hpp"

namespace tofu::detail {

namespace {

class KqueuePoller final : public Poller {
  public:
    KqueuePoller() : kq_(::kqueue()) {
        if (!kq_) {
            throw AmpeError(AmpeStatus::processing_failed, "kqueue failed");
        }
    }

    void add(int fd, std::uint32_t interest, std::uint64_t token) override {
        state_[fd] = State{0, token};
        apply(fd, interest, token, true);
    }

    void modify(int fd, std::uint32_t interest, std::uint64_t token) override {
        const auto it = state_.find(fd);
        if (it == state_.end()) {
            throw AmpeError(AmpeStatus::processing_failed, "kqueue: modify of an unknown fd");
        }
        if (it->second.interest == interest && it->second.token == token) {
            return;
        }
        apply(fd, interest, token, it->second.token != token);
    }

    void remove(int fd) noexcept override {
        const auto it = state_.find(fd);
        if (it == state_.end()) {
            return;
        }
        struct kevent ch[2];
        int n = 0;
        EV_SET(&ch[n++], fd, EVFILT_READ, EV_DELETE, 0, 0, nullptr);
        EV_SET(&ch[n++], fd, EVFILT_WRITE, EV_DELETE, 0, 0, nullptr);
        ::kevent(kq_.get(), ch, n, nullptr, 0, nullptr);  // ENOENT for an unset filter is fine
        state_.erase(it);
    }

    std::size_t wait(std::span<PollEvent> out, int timeout_ms) override {
        timespec ts{};
        timespec* tp = nullptr;
        if (timeout_ms >= 0) {
            ts.tv_sec = timeout_ms / 1000;
            ts.tv_nsec = static_cast<long>(timeout_ms % 1000) * 1000000L;
            tp = &ts;
        }
        const int cap = static_cast<int>(std::min<std::size_t>(out.size(), events_.size()));
        const int rc = ::kevent(kq_.get(), nullptr, 0, events_.data(), cap, tp);
        if (rc < 0) {
            if (errno == EINTR) {
                return 0;
            }
            throw AmpeError(AmpeStatus::processing_failed, "kevent failed");
        }
        std::size_t n = 0;
        for (int i = 0; i < rc; ++i) {
            const struct kevent& k = events_[i];
            std::uint32_t ev = k.filter == EVFILT_READ ? PollEvents::In : PollEvents::Out;
            if ((k.flags & EV_EOF) != 0) {
                ev |= PollEvents::Hup;
            }
            if ((k.flags & EV_ERROR) != 0) {
                ev |= PollEvents::Err;
            }
            out[n++] = PollEvent{reinterpret_cast<std::uint64_t>(k.udata), ev};
        }
        return n;
    }

    const char* name() const noexcept override { return "kqueue"; }

  private:
    struct State {
        std::uint32_t interest;
        std::uint64_t token;
    };

    void apply(int fd, std::uint32_t interest, std::uint64_t token, bool force) {
        State& s = state_[fd];
        struct kevent ch[2];
        int n = 0;
        auto* udata = reinterpret_cast<void*>(static_cast<std::uintptr_t>(token));
        const bool wantR = (interest & PollEvents::In) != 0;
        const bool wantW = (interest & PollEvents::Out) != 0;
        const bool hadR = (s.interest & PollEvents::In) != 0;
        const bool hadW = (s.interest & PollEvents::Out) != 0;
        if (wantR != hadR || (wantR && force)) {
            EV_SET(&ch[n++], fd, EVFILT_READ, wantR ? EV_ADD : EV_DELETE, 0, 0, udata);
        }
        if (wantW != hadW || (wantW && force)) {
            EV_SET(&ch[n++], fd, EVFILT_WRITE, wantW ? EV_ADD : EV_DELETE, 0, 0, udata);
        }
        if (n > 0 && ::kevent(kq_.get(), ch, n, nullptr, 0, nullptr) != 0 && errno != ENOENT) {
            throw AmpeError(AmpeStatus::processing_failed, "kevent change failed");
        }
        s = State{interest, token};
    }

    UniqueFd kq_;
    std::array<struct kevent, 256> events_{};
    std::unordered_map<int, State> state_;
};

}  // namespace

std::unique_ptr<Poller> makeKqueuePoller() {
    return std::make_unique<KqueuePoller>();
}

}  // namespace tofu::detail
#endif
