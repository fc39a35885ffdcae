// The message pool (the original's Pool_tests).
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "pool.hpp"

using namespace tofu;
using namespace tofu::detail;

TEST_CASE("pool: init and close", "[pool]") {
    Pool pool;
    REQUIRE(pool.core().initialMsgs() == 16);
    REQUIRE(pool.core().maxMsgs() == 64);
    REQUIRE(pool.core().count() == 16);
    pool.close();
    REQUIRE(pool.core().closed());
    // as the original's Pool: a closed pool refuses with not_allowed
    try {
        (void)pool.get(AllocationStrategy::always);
        FAIL("a closed pool gave a message");
    } catch (const AmpeError& e) {
        REQUIRE(e.status() == AmpeStatus::not_allowed);
    }
    IntrusiveQueue<Message> batch;
    REQUIRE_THROWS_AS(pool.core().getBatch(batch, 4), AmpeError);
}

TEST_CASE("pool: sizes", "[pool]") {
    Pool raised(10, 3);
    REQUIRE(raised.core().maxMsgs() == 10);
    Pool dflt(0, 0);
    REQUIRE(dflt.core().initialMsgs() == 16);
}

TEST_CASE("pool: base functionality", "[pool]") {
    Pool pool;
    std::vector<MessagePtr> initial;  // held to empty the pool; they return to it at the end
    while (MessagePtr m = pool.get(AllocationStrategy::poolOnly)) {
        initial.push_back(std::move(m));
    }
    REQUIRE(initial.size() == pool.core().initialMsgs());

    MessagePtr m1 = pool.get(AllocationStrategy::always);
    MessagePtr m2 = pool.get(AllocationStrategy::always);
    REQUIRE(m1);
    REQUIRE(m2);
    Message* p1 = m1.get();
    Message* p2 = m2.get();
    pool.put(m1);
    pool.put(m2);
    REQUIRE_FALSE(m1);
    // LIFO
    MessagePtr a = pool.get(AllocationStrategy::poolOnly);
    MessagePtr b = pool.get(AllocationStrategy::poolOnly);
    REQUIRE(a.get() == p2);
    REQUIRE(b.get() == p1);
    REQUIRE_FALSE(pool.get(AllocationStrategy::poolOnly));
}

TEST_CASE("pool: messages come back reset and the maximum is kept", "[pool]") {
    Pool pool(2, 3);
    std::vector<MessagePtr> many;
    for (int i = 0; i < 6; ++i) {
        many.push_back(pool.get(AllocationStrategy::always));
        many.back()->body.assign(std::string_view("dirty"));
        many.back()->bhdr.message_id = 77;
    }
    many.clear();  // deleters return them; beyond 3 they are freed
    REQUIRE(pool.core().count() == 3);
    MessagePtr m = pool.get(AllocationStrategy::poolOnly);
    REQUIRE(m->body.size() == 0);
    REQUIRE(m->bhdr.message_id == 0);
}

TEST_CASE("pool: big buffers are not kept", "[pool]") {
    Pool pool(1, 1);
    MessagePtr m = pool.get(AllocationStrategy::poolOnly);
    m->body.resize(60000);
    pool.put(m);
    MessagePtr again = pool.get(AllocationStrategy::poolOnly);
    REQUIRE(again->body.capacity() < 60000);
}

TEST_CASE("pool: the alerter hears of a refill after an empty poolOnly get", "[pool]") {
    Pool pool(1, 4);
    int alerts = 0;
    pool.core().setAlerter([&alerts] { ++alerts; });
    MessagePtr m = pool.get(AllocationStrategy::poolOnly);
    pool.put(m);
    REQUIRE(alerts == 0);  // nobody went without
    m = pool.get(AllocationStrategy::poolOnly);
    REQUIRE_FALSE(pool.get(AllocationStrategy::poolOnly));
    pool.put(m);
    REQUIRE(alerts == 1);
    m = pool.get(AllocationStrategy::poolOnly);
    pool.put(m);
    REQUIRE(alerts == 1);  // once per empty episode
}

TEST_CASE("pool: a message outliving its pool frees itself", "[pool]") {
    MessagePtr survivor;
    MessagePtr clone;
    {
        Pool pool(2, 2);
        survivor = pool.get(AllocationStrategy::poolOnly);
        survivor->body.assign(std::string_view("still here"));
        clone = survivor->clone();
    }
    REQUIRE(survivor->body.view() == "still here");
    REQUIRE(clone->body.view() == "still here");
    survivor.reset();  // goes to a closed pool: freed (ASan checks no leak, no use after free)
    clone.reset();
}

TEST_CASE("pool: four threads get and put, then close", "[pool][mt]") {
    auto pool = std::make_unique<Pool>(8, 16);
    std::atomic<bool> go{false};
    std::atomic<int> got{0};
    std::atomic<int> unexpected{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            while (!go) {
                std::this_thread::yield();
            }
            std::vector<MessagePtr> held;
            for (int i = 0; i < 5000; ++i) {
                try {
                    MessagePtr m =
                        pool->get(t % 2 == 0 ? AllocationStrategy::poolOnly : AllocationStrategy::always);
                    if (m) {
                        ++got;
                        held.push_back(std::move(m));
                    }
                } catch (const AmpeError& e) {
                    if (e.status() != AmpeStatus::not_allowed) {
                        ++unexpected;  // Catch2 assertions are not thread-safe: checked below
                    }
                }
                if (held.size() > 3) {
                    held.clear();
                }
            }
        });
    }
    go = true;
    std::thread closer([&] {
        while (got < 2000) {
            std::this_thread::yield();
        }
        pool->close();
    });
    for (auto& t : threads) {
        t.join();
    }
    closer.join();
    REQUIRE(pool->core().count() == 0);
    REQUIRE(got >= 2000);
    REQUIRE(unexpected == 0);
}

TEST_CASE("pool: a poolOnly get that finds nothing is always followed by an alert or a message", "[pool]") {
    // The getter and a concurrent put race: either the getter takes the message put back, or the put
    // sees that a getter went without and calls the alerter — never neither (a paused reader would wait
    // for ever).
    Pool pool(1, 4);
    std::atomic<int> alerts{0};
    pool.core().setAlerter([&alerts] { alerts.fetch_add(1, std::memory_order_relaxed); });
    for (int round = 0; round < 2000; ++round) {
        MessagePtr held = pool.get(AllocationStrategy::poolOnly);
        REQUIRE(held);
        const int before = alerts.load();
        std::atomic<bool> go{false};
        std::thread putter([&] {
            while (!go.load(std::memory_order_acquire)) {
            }
            held.reset();  // back to the pool
        });
        go.store(true, std::memory_order_release);
        MessagePtr got = pool.get(AllocationStrategy::poolOnly);
        putter.join();
        if (!got) {
            REQUIRE(alerts.load() > before);
            got = pool.get(AllocationStrategy::poolOnly);
            REQUIRE(got);  // the alert was for a message that is there
        }
    }
}

TEST_CASE("pool: many threads getting and putting keep every message and the maximum", "[pool]") {
    Pool pool(8, 32);
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&pool, &failures, t] {
            IntrusiveQueue<Message> batch;
            for (int i = 0; i < 5000; ++i) {
                MessagePtr m = pool.get(AllocationStrategy::always);
                if (!m || !m->body.empty() || m->bhdr.message_id != 0) {
                    failures.fetch_add(1);
                }
                m->body.assign(std::string_view("x"));
                m->bhdr.message_id = static_cast<MessageID>(i + 1);
                if (t % 2 == 0) {
                    m.reset();  // one by one
                } else {
                    batch.enqueue(m.release());  // or several at once, as the reactor does
                    if (batch.count() == 8) {
                        pool.core().putAll(batch);
                    }
                }
            }
            pool.core().putAll(batch);
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    CHECK(failures.load() == 0);
    CHECK(pool.core().count() <= 32);
    CHECK(pool.core().count() >= 8);
}
