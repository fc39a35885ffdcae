// The resolver thread (src/resolver.hpp): results keep their token and request order, each one wakes the
// reactor once, a failure says why, and destruction joins the worker whatever it still has to do.
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "resolver.hpp"

using namespace tofu;
using namespace tofu::detail;
using namespace std::chrono_literals;

namespace {

// Stands in for the reactor's notifier: counts wake-ups and remembers the thread they came from.
struct Wakes {
    std::mutex mutex;
    std::condition_variable cv;
    int count = 0;
    std::thread::id from;

    std::function<void()> callback() {
        return [this] {
            {
                std::lock_guard lock(mutex);
                ++count;
                from = std::this_thread::get_id();
            }
            cv.notify_all();
        };
    }
    // True once n wake-ups came; false after 10 s.
    bool waitFor(int n) {
        std::unique_lock lock(mutex);
        return cv.wait_for(lock, 10s, [&] { return count >= n; });
    }
};

}  // namespace

TEST_CASE("resolver: a numeric address resolves on the worker thread and keeps its token", "[resolver]") {
    Wakes wakes;
    Resolver resolver(wakes.callback());
    REQUIRE_FALSE(resolver.hasResults());
    resolver.request(7, "127.0.0.1", 8080);
    REQUIRE(wakes.waitFor(1));
    REQUIRE(wakes.from != std::this_thread::get_id());
    REQUIRE(resolver.hasResults());

    std::vector<Resolver::Result> out;
    resolver.take(out);
    REQUIRE(out.size() == 1);
    REQUIRE(out[0].token == 7);
    REQUIRE(out[0].status == AmpeStatus::success);
    REQUIRE(out[0].why.empty());
    REQUIRE(out[0].endpoints.size() == 1);
    REQUIRE(out[0].endpoints[0].toString() == "127.0.0.1:8080");

    REQUIRE_FALSE(resolver.hasResults());
    resolver.take(out);  // nothing new: out is left as it is
    REQUIRE(out.size() == 1);
}

TEST_CASE("resolver: a name that does not resolve comes back invalid_address with the reason", "[resolver]") {
    Wakes wakes;
    Resolver resolver(wakes.callback());
    resolver.request(1, "no-such-host.invalid", 80);
    resolver.request(2, "", 80);
    REQUIRE(wakes.waitFor(2));
    std::vector<Resolver::Result> out;
    resolver.take(out);
    REQUIRE(out.size() == 2);
    for (const Resolver::Result& r : out) {
        REQUIRE(r.status == AmpeStatus::invalid_address);
        REQUIRE(r.endpoints.empty());
    }
    REQUIRE(out[0].token == 1);
    REQUIRE_THAT(out[0].why, Catch::Contains("no-such-host.invalid"));
    REQUIRE(out[1].token == 2);
    REQUIRE_FALSE(out[1].why.empty());
}

TEST_CASE("resolver: results come in request order, one wake-up each", "[resolver]") {
    Wakes wakes;
    Resolver resolver(wakes.callback());
    constexpr int Requests = 20;
    for (int i = 1; i <= Requests; ++i) {
        resolver.request(static_cast<std::uint64_t>(i), i % 2 == 0 ? "localhost" : "127.0.0.1",
                         static_cast<std::uint16_t>(9000 + i));
    }
    REQUIRE(wakes.waitFor(Requests));
    std::vector<Resolver::Result> out;
    resolver.take(out);
    REQUIRE(out.size() == Requests);
    for (int i = 1; i <= Requests; ++i) {
        const Resolver::Result& r = out[static_cast<std::size_t>(i - 1)];
        REQUIRE(r.token == static_cast<std::uint64_t>(i));
        REQUIRE(r.status == AmpeStatus::success);
        REQUIRE_FALSE(r.endpoints.empty());
    }
    std::lock_guard lock(wakes.mutex);
    REQUIRE(wakes.count == Requests);
}

TEST_CASE("resolver: destroyed with requests pending, it joins its worker", "[resolver]") {
    Wakes wakes;
    SECTION("never used: no worker to join") {
        {
            const Resolver idle(wakes.callback());
            REQUIRE_FALSE(idle.hasResults());
        }
        REQUIRE(wakes.count == 0);
    }
    SECTION("busy") {
        auto resolver = std::make_unique<Resolver>(wakes.callback());
        for (std::uint64_t i = 0; i < 50; ++i) {
            resolver->request(i, "127.0.0.1", 1);
        }
        resolver.reset();  // returns once the worker is gone (ASan/TSan watch it touch nothing after)
        std::lock_guard lock(wakes.mutex);
        REQUIRE(wakes.count <= 50);  // at most one a request, none after it stopped
    }
}
