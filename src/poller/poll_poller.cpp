// poll(2) backend: portable. The pollfd array is kept between waits and edited in place (the original
// rebuilt its poll set every pass); removal swaps the last entry into the hole.
#include <poll.h>

#include <cerrno>
#include <unordered_map>
#include <vector>

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
        if (index_.contains(fd)) {
            throw AmpeError(AmpeStatus::processing_failed, "poll: fd registered twice");
        }
        index_[fd] = fds_.size();
        fds_.push_back(pollfd{fd, toPoll(interest), 0});
        tokens_.push_back(token);
    }

    void modify(int fd, std::uint32_t interest, std::uint64_t token) override {
        const auto it = index_.find(fd);
        if (it == index_.end()) {
            throw AmpeError(AmpeStatus::processing_failed, "poll: modify of an unknown fd");
        }
        fds_[it->second].events = toPoll(interest);
        tokens_[it->second] = token;
    }

    void remove(int fd) noexcept override {
        const auto it = index_.find(fd);
        if (it == index_.end()) {
            return;
        }
        const std::size_t i = it->second;
        const std::size_t last = fds_.size() - 1;
        if (i != last) {
            fds_[i] = fds_[last];
            tokens_[i] = tokens_[last];
            index_[fds_[i].fd] = i;
        }
        fds_.pop_back();
        tokens_.pop_back();
        index_.erase(it);
    }

    std::size_t wait(std::span<PollEvent> out, int timeout_ms) override {
        const int rc = ::poll(fds_.data(), static_cast<nfds_t>(fds_.size()), timeout_ms);
        if (rc < 0) {
            if (errno == EINTR) {
                return 0;
            }
            throw AmpeError(AmpeStatus::processing_failed, "poll failed");
        }
        // Scan from where the last scan stopped, so that when more are ready than `out` holds, the
        // ones at the end of the array get their turn too; stop once all rc ready entries are seen.
        std::size_t n = 0;
        const std::size_t size = fds_.size();
        auto left = static_cast<std::size_t>(rc);
        std::size_t i = size == 0 ? 0 : start_ % size;
        for (std::size_t seen = 0; seen < size && left > 0 && n < out.size(); ++seen, i = (i + 1) % size) {
            const short re = fds_[i].revents;
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
            out[n++] = PollEvent{tokens_[i], ev};
        }
        start_ = i;
        return n;
    }

    const char* name() const noexcept override { return "poll"; }

  private:
    std::vector<pollfd> fds_;
    std::vector<std::uint64_t> tokens_;
    std::unordered_map<int, std::size_t> index_;
    std::size_t start_ = 0;  // where the next scan begins
};

}  // namespace

std::unique_ptr<Poller> makePollPoller() {
    return std::make_unique<PollPoller>();
}

}  // namespace tofu::detail
