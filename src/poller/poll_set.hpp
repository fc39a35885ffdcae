// The registration table of the poll-style backends (poll(2), WSAPoll): the pollfd array, kept between waits
// and edited in place, a parallel array of each backend's own per-entry data, and an index from descriptor to
// slot. Removal swaps the last entry into the hole.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

#include "tofu/status.hpp"

namespace tofu::detail {

template <class Fd, class PollFd, class Entry>
class PollSet {
  public:
    /// `who` names the backend in errors ("poll", "wsapoll").
    explicit PollSet(const char* who) noexcept : who_(who) {}

    /// Throws when fd is registered already.
    void add(Fd fd, short events, const Entry& entry) {
        if (index_.contains(fd)) {
            throw AmpeError(AmpeStatus::processing_failed,
                            std::string(who_) + ": descriptor registered twice");
        }
        index_[fd] = fds_.size();
        fds_.push_back(PollFd{fd, events, 0});
        entries_.push_back(entry);
    }

    /// The slot of fd; throws when it is not registered.
    [[nodiscard]] std::size_t slot(Fd fd) const {
        const auto it = index_.find(fd);
        if (it == index_.end()) {
            throw AmpeError(AmpeStatus::processing_failed,
                            std::string(who_) + ": modify of an unknown descriptor");
        }
        return it->second;
    }

    /// Nothing when fd is not registered.
    void remove(Fd fd) noexcept {
        const auto it = index_.find(fd);
        if (it == index_.end()) {
            return;
        }
        const std::size_t i = it->second;
        const std::size_t last = fds_.size() - 1;
        if (i != last) {
            fds_[i] = fds_[last];
            entries_[i] = entries_[last];
            index_[fds_[i].fd] = i;
        }
        fds_.pop_back();
        entries_.pop_back();
        index_.erase(it);
    }

    [[nodiscard]] std::vector<PollFd>& fds() noexcept { return fds_; }
    [[nodiscard]] std::vector<Entry>& entries() noexcept { return entries_; }
    [[nodiscard]] std::size_t size() const noexcept { return fds_.size(); }
    [[nodiscard]] bool empty() const noexcept { return fds_.empty(); }

  private:
    const char* who_;
    std::vector<PollFd> fds_;
    std::vector<Entry> entries_;
    std::unordered_map<Fd, std::size_t> index_;
};

}  // namespace tofu::detail
