#include "resolver.hpp"

#if defined(__linux__)
#include <pthread.h>
#endif

namespace tofu::detail {

Resolver::~Resolver() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) {
        thread_.join();  // always joined: the worker uses this object
    }
}

void Resolver::request(std::uint64_t token, std::string host, std::uint16_t port) {
    {
        std::lock_guard lock(mutex_);
        requests_.push_back(Request{token, std::move(host), port});
        if (!thread_.joinable()) {
            thread_ = std::thread([this] { work(); });
        }
    }
    cv_.notify_one();
}

void Resolver::take(std::vector<Result>& out) {
    if (!hasResults_.load(std::memory_order_acquire)) {
        return;
    }
    std::lock_guard lock(mutex_);
    for (Result& r : results_) {
        out.push_back(std::move(r));
    }
    results_.clear();
    hasResults_.store(false, std::memory_order_release);
}

void Resolver::work() {
#if defined(__linux__)
    (void)::pthread_setname_np(::pthread_self(), "tofu-resolver");
#endif
    std::unique_lock lock(mutex_);
    for (;;) {
        cv_.wait(lock, [this] { return stop_ || !requests_.empty(); });
        if (stop_) {
            return;
        }
        Request req = std::move(requests_.front());
        requests_.pop_front();
        lock.unlock();
        Result res;
        res.token = req.token;
        res.status = resolve(req.host, req.port, res.endpoints, &res.why);
        lock.lock();
        results_.push_back(std::move(res));
        hasResults_.store(true, std::memory_order_release);
        lock.unlock();
        wake_();
        lock.lock();
    }
}

}  // namespace tofu::detail
