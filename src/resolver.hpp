// Host-name resolution off the reactor thread (the original resolved on it, blocking every channel).
//
// One worker thread, started on first use and joined by the destructor. Requests and results carry the
// channel's number and generation so a result for a channel closed meanwhile is recognised and dropped.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "socket.hpp"

namespace tofu::detail {

class Resolver {
  public:
    struct Result {
        std::uint64_t token = 0;
        AmpeStatus status = AmpeStatus::success;
        std::vector<Endpoint> endpoints;
        std::string why;  // the resolver's words on a failure
    };

    /// wake is called (from the worker) after each result is queued.
    explicit Resolver(std::function<void()> wake) : wake_(std::move(wake)) {}
    ~Resolver();
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    void request(std::uint64_t token, std::string host, std::uint16_t port);
    [[nodiscard]] bool hasResults() const noexcept { return hasResults_.load(std::memory_order_acquire); }
    /// Moves every finished result into out; cheap when there is none.
    void take(std::vector<Result>& out);

  private:
    struct Request {
        std::uint64_t token;
        std::string host;
        std::uint16_t port;
    };
    void work();

    std::function<void()> wake_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<Request> requests_;
    std::vector<Result> results_;
    std::atomic<bool> hasResults_{false};
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace tofu::detail
