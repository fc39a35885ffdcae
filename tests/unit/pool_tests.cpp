// The message pool (the original's Pool_tests).
#include <atomic>
#include <catch2/catch.hpp>
#include <memory_resource>
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

TEST_CASE("pool: counts of pooled and outstanding messages follow gets and puts", "[pool]") {
    Pool pool(4, 6);
    REQUIRE(pool.core().count() == 4);
    REQUIRE(pool.core().outstanding() == 0);
    std::vector<MessagePtr> out;
    for (int i = 0; i < 7; ++i) {  // 4 pooled, then 3 new ones
        out.push_back(pool.get(AllocationStrategy::always));
    }
    REQUIRE(pool.core().count() == 0);
    REQUIRE(pool.core().outstanding() == 7);
    REQUIRE(pool.core().allocated() == 3);
    out.pop_back();
    REQUIRE(pool.core().count() == 1);
    REQUIRE(pool.core().outstanding() == 6);
    out.clear();  // 6 kept, the seventh freed
    REQUIRE(pool.core().count() == 6);
    REQUIRE(pool.core().outstanding() == 0);
    IntrusiveQueue<Message> batch;
    REQUIRE(pool.core().getBatch(batch, 4) == 4);
    REQUIRE(pool.core().count() == 2);
    REQUIRE(pool.core().outstanding() == 4);
    pool.core().putAll(batch);
    REQUIRE(pool.core().count() == 6);
    REQUIRE(pool.core().outstanding() == 0);
}

TEST_CASE("pool: a message of another pool or of none is adopted", "[pool]") {
    Pool keeper(1, 4);
    MessagePtr foreign;
    {
        Pool other(1, 1);
        foreign = other.get(AllocationStrategy::poolOnly);
        keeper.put(foreign);  // the other pool's reference goes, the keeper's comes
        REQUIRE(other.core().count() == 0);
    }  // the other pool is gone: the adopted message must not point at it
    REQUIRE(keeper.core().count() == 2);
    MessagePtr loose = Message::create();
    keeper.put(loose);
    REQUIRE(keeper.core().count() == 3);
    std::vector<MessagePtr> all;
    while (MessagePtr m = keeper.get(AllocationStrategy::poolOnly)) {
        REQUIRE(keeper.core().owns(*m));
        all.push_back(std::move(m));
    }
    REQUIRE(all.size() == 3);
}

TEST_CASE("pool: messages released while their pool is destroyed free themselves", "[pool][mt]") {
    // Puts racing the owner's close and last release: each message either lands in the pool before the
    // close (freed by it) or finds it closed (freed by its putter), and the core goes with the last one.
    // Half the rounds begin with a getter that went without, so the first put alerts (under its own
    // reference) while the pool may be closing. ASan and TSan watch for races and use after free; the
    // resource below counts what the messages hold, to see it all given back.
    struct CountingResource final : std::pmr::memory_resource {
        std::atomic<std::ptrdiff_t> live{0};
        void* do_allocate(std::size_t bytes, std::size_t align) override {
            live.fetch_add(1, std::memory_order_relaxed);
            return std::pmr::new_delete_resource()->allocate(bytes, align);
        }
        void do_deallocate(void* p, std::size_t bytes, std::size_t align) override {
            live.fetch_sub(1, std::memory_order_relaxed);
            std::pmr::new_delete_resource()->deallocate(p, bytes, align);
        }
        [[nodiscard]] bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override {
            return this == &o;
        }
    } mr;
    std::atomic<int> alerts{0};
    for (int round = 0; round < 300; ++round) {
        auto pool = std::make_unique<Pool>(4, 64, &mr);
        pool->core().setAlerter([&alerts] { alerts.fetch_add(1, std::memory_order_relaxed); });
        std::vector<MessagePtr> out;
        for (int i = 0; i < 32; ++i) {
            out.push_back(pool->get(AllocationStrategy::always));
        }
        if (round % 2 == 0) {
            REQUIRE_FALSE(pool->get(AllocationStrategy::poolOnly));  // leaves the want mark
        }
        std::atomic<bool> go{false};
        std::vector<std::thread> putters;
        for (int t = 0; t < 2; ++t) {
            putters.emplace_back([&out, &go, t] {
                while (!go.load(std::memory_order_acquire)) {
                }
                for (std::size_t i = static_cast<std::size_t>(t); i < out.size(); i += 2) {
                    out[i].reset();
                }
            });
        }
        go.store(true, std::memory_order_release);
        if (round % 3 != 0) {
            pool->core().setAlerter({});  // as the engine does before it closes
        }
        pool.reset();
        for (auto& t : putters) {
            t.join();
        }
        REQUIRE(mr.live.load() == 0);  // every message and buffer freed, by the close or by its putter
    }
}
