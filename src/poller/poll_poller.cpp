// poll(2) backend: portable. The pollfd array is kept between waits and edited in place (PollSet; the
// original rebuilt its poll set every pass).
#include <poll.h>

#include <cerrno>
#include <vector>

#include "poll_set.hpp"
#include "poller.hpp"
#include "tofu/status.hpp"

namespace tofu::detail {

namespace {

short toPoll(std::uint32_t interest) noexcept {
    short ev = 0;
    if ((interest & PollEvents::In) != 0) {
        ev |= POLLIN;
    }
    if ((interest & PollEvents::Out) != 0) {
        ev |= POLLOUT;
    }
    return ev;
}

class PollPoller final : public Poller {
  public:
    void add(int fd, std::uint32_t interest, std::uint64_t token) override {
        set_.add(fd, toPoll(interest), token);
    }

    void modify(int fd, std::uint32_t interest, std::uint64_t token) override {
        const std::size_t i = set_.slot(fd);
        set_.fds()[i].events = toPoll(interest);
        set_.entries()[i] = token;
    }

    void remove(int fd) noexcept override { set_.remove(fd); }

    std::size_t wait(std::span<PollEvent> out, int timeout_ms) override {
        std::vector<pollfd>& fds = set_.fds();
        const int rc = ::poll(fds.data(), static_cast<nfds_t>(fds.size()), timeout_ms);
        if (rc < 0) {
            if (errno == EINTR) {
                return 0;
            }
            throw AmpeError(AmpeStatus::processing_failed, "poll failed");
        }
        // Scan from where the last scan stopped, so that when more are ready than `out` holds, the
        // ones at the end of the array get their turn too; stop once all rc ready entries are seen.
        std::size_t n = 0;
        const std::size_t size = fds.size();
        auto left = static_cast<std::size_t>(rc);
        std::size_t i = size == 0 ? 0 : start_ % size;
        for (std::size_t seen = 0; seen < size && left > 0 && n < out.size(); ++seen, i = (i + 1) % size) {
            const short re = fds[i].revents;
            if (re == 0) {
                continue;
            }
            --left;
            std::uint32_t ev = 0;
            if ((re & POLLIN) != 0) {
                ev |= PollEvents::In;
            }
            if ((re & POLLOUT) != 0) {
                ev |= PollEvents::Out;
            }
            if ((re & (POLLERR | POLLNVAL)) != 0) {
                ev |= PollEvents::Err;
            }
            if ((re & POLLHUP) != 0) {
                ev |= PollEvents::Hup;
            }
            out[n++] = PollEvent{set_.entries()[i], ev};
        }
        start_ = i;
        return n;
    }

    const char* name() const noexcept override { return "poll"; }

  private:
    PollSet<int, pollfd, std::uint64_t> set_{"poll"};  // each entry's token
    std::size_t start_ = 0;                            // where the next scan begins
};

}  // namespace

std::unique_ptr<Poller> makePollPoller() {
    return std::make_unique<PollPoller>();
}

}  // namespace tofu::detail
