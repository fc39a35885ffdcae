// The group mailbox (src/mailbox.hpp) that waitReceive stands on: order, timeouts, wake-ups, close and
// reopen, and that no message it holds is lost to its pool. Threads block on the mailbox for real; the
// tests wait for them through waiters() with a bound, never by sleeping.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>
#include <vector>

#include "mailbox.hpp"
#include "pool.hpp"

using namespace tofu;
using namespace tofu::detail;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t Forever = UINT64_MAX;
constexpr std::uint16_t PoolSize = 8;

Message* numbered(Pool& pool, MessageID id) {
    Message* m = pool.get(AllocationStrategy::poolOnly).release();
    REQUIRE(m != nullptr);
    m->bhdr.message_id = id;
    return m;
}

// The id of the next message, or 0 when pop gives none; the message goes back to its pool.
MessageID popId(Mailbox& mb, std::uint64_t timeoutNs = 0) {
    Message* m = nullptr;
    const Mailbox::Pop r = mb.pop(timeoutNs, m);
    const MessagePtr owned(m);
    REQUIRE((r == Mailbox::Pop::message) == (m != nullptr));
    return m != nullptr ? m->bhdr.message_id : 0;
}

// True once `n` threads are blocked inside pop() (or about to block: a push or close from then on wakes
// them either way); false after 10 s.
bool waitForWaiters(const Mailbox& mb, int n) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (mb.waiters() != n) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::yield();
    }
    return true;
}

// Pops on its own thread (the receiver); the result is read after join().
struct Receiver {
    Mailbox::Pop result = Mailbox::Pop::timeout;
    MessageID id = 0;
    std::thread thread;

    Receiver(Mailbox& mb, std::uint64_t timeoutNs) {
        thread = std::thread([this, &mb, timeoutNs] {
            Message* m = nullptr;
            result = mb.pop(timeoutNs, m);
            const MessagePtr owned(m);
            id = m != nullptr ? m->bhdr.message_id : 0;
        });
    }
    void join() { thread.join(); }
};

}  // namespace

TEST_CASE("mailbox: messages come out in the order they were pushed", "[mailbox]") {
    Pool pool(PoolSize, PoolSize);
    Mailbox mb;
    REQUIRE(mb.push(numbered(pool, 1)));
    REQUIRE(mb.push(numbered(pool, 2)));
    IntrusiveQueue<Message> batch;
    batch.enqueue(numbered(pool, 3));
    batch.enqueue(numbered(pool, 4));
    REQUIRE(mb.pushAll(batch));
    REQUIRE(batch.empty());
    IntrusiveQueue<Message> none;
    REQUIRE(mb.pushAll(none));  // nothing to push: fine

    REQUIRE(popId(mb) == 1);  // the receiver now holds 2, 3 and 4 apart from the shared queue
    REQUIRE(mb.push(numbered(pool, 5)));
    REQUIRE(popId(mb) == 2);
    REQUIRE(popId(mb) == 3);
    REQUIRE(popId(mb) == 4);
    REQUIRE(popId(mb) == 5);
    Message* m = nullptr;
    REQUIRE(mb.pop(0, m) == Mailbox::Pop::timeout);
    REQUIRE(m == nullptr);
    REQUIRE(pool.core().count() == PoolSize);
}

TEST_CASE("mailbox: pop with nothing queued times out after its timeout", "[mailbox]") {
    Mailbox mb;
    Message* m = nullptr;
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE(mb.pop(0, m) == Mailbox::Pop::timeout);  // 0: a look, no wait
    REQUIRE(mb.pop(std::chrono::nanoseconds(50ms).count(), m) == Mailbox::Pop::timeout);
    const auto waited = std::chrono::steady_clock::now() - t0;
    REQUIRE(m == nullptr);
    REQUIRE(waited >= 50ms);
    REQUIRE(waited < 10s);
    REQUIRE(mb.waiters() == 0);
}

TEST_CASE("mailbox: a push wakes a receiver blocked without a timeout", "[mailbox]") {
    Pool pool(PoolSize, PoolSize);
    Mailbox mb;
    Receiver rx(mb, Forever);
    REQUIRE(waitForWaiters(mb, 1));
    REQUIRE(mb.push(numbered(pool, 7)));
    rx.join();
    REQUIRE(rx.result == Mailbox::Pop::message);
    REQUIRE(rx.id == 7);
    REQUIRE(mb.waiters() == 0);
}

TEST_CASE("mailbox: close wakes a blocked receiver, refuses pushes and hands back the queue", "[mailbox]") {
    Pool pool(PoolSize, PoolSize);
    Mailbox mb;
    SECTION("a receiver blocked for ever wakes with closed") {
        Receiver rx(mb, Forever);
        REQUIRE(waitForWaiters(mb, 1));
        REQUIRE(mb.close().empty());
        rx.join();
        REQUIRE(rx.result == Mailbox::Pop::closed);
        mb.waitIdle();  // returns at once: nobody is inside pop()
        REQUIRE(mb.waiters() == 0);
    }
    SECTION("queued messages come back in order, later pushes are refused") {
        REQUIRE(mb.push(numbered(pool, 1)));
        REQUIRE(mb.push(numbered(pool, 2)));
        IntrusiveQueue<Message> rest = mb.close();
        REQUIRE(mb.closed());
        REQUIRE(rest.count() == 2);
        MessagePtr first(rest.dequeue());
        MessagePtr second(rest.dequeue());
        REQUIRE(first->bhdr.message_id == 1);
        REQUIRE(second->bhdr.message_id == 2);

        Message* refused = numbered(pool, 3);
        REQUIRE_FALSE(mb.push(refused));  // the caller still owns it
        IntrusiveQueue<Message> batch;
        batch.enqueue(refused);
        REQUIRE_FALSE(mb.pushAll(batch));
        REQUIRE(batch.count() == 1);  // left untouched
        MessagePtr back(batch.dequeue());
        REQUIRE(back->bhdr.message_id == 3);

        Message* m = nullptr;
        REQUIRE(mb.pop(Forever, m) == Mailbox::Pop::closed);  // no wait once closed
        REQUIRE(m == nullptr);
    }
}

TEST_CASE("mailbox: reopen gives an empty open mailbox and returns what it held to the pool", "[mailbox]") {
    Pool pool(PoolSize, PoolSize);
    Mailbox mb;
    REQUIRE(mb.push(numbered(pool, 1)));
    REQUIRE(mb.push(numbered(pool, 2)));
    REQUIRE(popId(mb) == 1);  // 2 now waits on the receiver's side of the mailbox
    REQUIRE(mb.push(numbered(pool, 3)));
    IntrusiveQueue<Message> rest = mb.close();
    REQUIRE(rest.count() == 1);  // 3; 2 stays inside until reopen or discard
    MessagePtr three(rest.dequeue());
    REQUIRE(three->bhdr.message_id == 3);
    three.reset();
    REQUIRE(pool.core().count() == PoolSize - 1);

    mb.reopen();
    REQUIRE_FALSE(mb.closed());
    REQUIRE(pool.core().count() == PoolSize);  // 2 went back
    Message* m = nullptr;
    REQUIRE(mb.pop(0, m) == Mailbox::Pop::timeout);  // nothing of the previous life
    REQUIRE(mb.push(numbered(pool, 4)));
    REQUIRE(popId(mb) == 4);

    Receiver rx(mb, Forever);  // and a receiver blocks and wakes again
    REQUIRE(waitForWaiters(mb, 1));
    REQUIRE(mb.push(numbered(pool, 5)));
    rx.join();
    REQUIRE(rx.result == Mailbox::Pop::message);
    REQUIRE(rx.id == 5);
}

TEST_CASE("mailbox: discard and the destructor return every held message to its pool", "[mailbox]") {
    Pool pool(PoolSize, PoolSize);
    SECTION("discard after close") {
        Mailbox mb;
        for (MessageID id = 1; id <= 4; ++id) {
            REQUIRE(mb.push(numbered(pool, id)));
        }
        REQUIRE(popId(mb) == 1);
        (void)mb.close();  // hands back nothing: the receiver's side holds 2..4
        REQUIRE(pool.core().count() == PoolSize - 3);
        mb.discard();
        REQUIRE(pool.core().count() == PoolSize);
    }
    SECTION("destructor") {
        {
            Mailbox mb;
            for (MessageID id = 1; id <= 4; ++id) {
                REQUIRE(mb.push(numbered(pool, id)));
            }
            REQUIRE(popId(mb) == 1);
            REQUIRE(mb.push(numbered(pool, 5)));
            REQUIRE(pool.core().count() == PoolSize - 4);
        }
        REQUIRE(pool.core().count() == PoolSize);
    }
}

// The receiver sleeps whenever it has drained everything, so most pushes race its going to sleep: a lost
// wake-up shows as a pop that waits out its 10 s instead of getting the message already pushed.
TEST_CASE(
    "mailbox: two pushers racing a receiver that keeps falling asleep lose nothing and keep their order",
    "[mailbox]") {
    constexpr std::uint16_t PerPusher = 20000;
    Pool pool(64, UINT16_MAX);
    Mailbox mb;
    std::atomic<int> refused{0};  // counted, not asserted: Catch's assertions are not for other threads
    auto pusher = [&](MessageID base) {
        for (MessageID i = 1; i <= PerPusher; ++i) {
            Message* m = pool.get(AllocationStrategy::always).release();
            m->bhdr.message_id = base + i;
            if (i % 3 == 0) {  // batches too, as the reactor pushes
                IntrusiveQueue<Message> q;
                q.enqueue(m);
                if (i < PerPusher) {
                    Message* n = pool.get(AllocationStrategy::always).release();
                    n->bhdr.message_id = base + ++i;
                    q.enqueue(n);
                }
                refused += mb.pushAll(q) ? 0 : 1;
            } else {
                refused += mb.push(m) ? 0 : 1;
            }
        }
    };
    std::thread a(pusher, MessageID{0});
    std::thread b(pusher, MessageID{1} << 32);
    MessageID lastA = 0;
    MessageID lastB = MessageID{1} << 32;
    bool inOrder = true;
    std::size_t got = 0;
    for (; got < 2U * PerPusher; ++got) {
        Message* m = nullptr;
        if (mb.pop(std::chrono::nanoseconds(10s).count(), m) != Mailbox::Pop::message) {
            break;
        }
        const MessagePtr owned(m);
        MessageID& last = (m->bhdr.message_id >> 32) != 0 ? lastB : lastA;
        inOrder = inOrder && m->bhdr.message_id == last + 1;
        last = m->bhdr.message_id;
    }
    a.join();
    b.join();
    REQUIRE(refused == 0);
    REQUIRE(got == 2U * PerPusher);
    REQUIRE(inOrder);
    REQUIRE(mb.waiters() == 0);
}

// A push that loses its race with close() gets its batch back whole (its messages are the pusher's again)
// and touches nothing close() handed back; one that wins is in what close() hands back or what pop takes.
TEST_CASE("mailbox: batches pushed while it closes are taken whole or refused whole", "[mailbox]") {
    Pool pool(64, UINT16_MAX);
    std::atomic<int> torn{0};  // refused batches that did not come back with all three messages
    for (int round = 0; round < 500; ++round) {
        Mailbox mb;
        auto push = [&] {
            for (int k = 0; k < 50; ++k) {
                IntrusiveQueue<Message> q;
                for (int j = 0; j < 3; ++j) {
                    q.enqueue(pool.get(AllocationStrategy::always).release());
                }
                if (!mb.pushAll(q)) {
                    torn += q.count() == 3 ? 0 : 1;
                    while (Message* m = q.dequeue()) {
                        MessageDeleter{}(m);
                    }
                }
            }
        };
        std::thread a(push);  // two, so a push often retries its compare-and-swap
        std::thread b(push);
        for (int spin = 0; spin < round % 7; ++spin) {
            std::this_thread::yield();
        }
        IntrusiveQueue<Message> rest = mb.close();
        REQUIRE(rest.count() % 3 == 0);
        while (Message* m = rest.dequeue()) {
            MessageDeleter{}(m);
        }
        a.join();
        b.join();
        mb.discard();
    }
    REQUIRE(torn == 0);
    REQUIRE(pool.core().outstanding() == 0);  // every message back: none lost, none freed twice
}
