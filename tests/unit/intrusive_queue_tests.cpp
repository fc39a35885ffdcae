// The intrusive queue under the inbox, send queues, pool and mailbox.
#include <array>
#include <catch2/catch.hpp>
#include <utility>
#include <vector>

#include "intrusive_queue.hpp"

using namespace tofu::detail;

namespace {
struct Node {
    Node* prev = nullptr;
    Node* next = nullptr;
    int v = 0;
};

// N unlinked nodes valued 0..N-1.
template <std::size_t N>
std::array<Node, N> nodes() {
    std::array<Node, N> n{};
    for (std::size_t i = 0; i < N; ++i) {
        n[i].v = static_cast<int>(i);
    }
    return n;
}
}  // namespace

TEST_CASE("queue: enqueue, pushFront, dequeue, move", "[queue]") {
    auto n = nodes<5>();
    IntrusiveQueue<Node> q;
    REQUIRE(q.empty());
    REQUIRE(q.dequeue() == nullptr);
    q.enqueue(&n[1]);
    q.enqueue(&n[2]);
    q.pushFront(&n[0]);
    REQUIRE(q.count() == 3);
    REQUIRE(q.front() == &n[0]);
    REQUIRE(n[2].next == nullptr);

    REQUIRE(q.dequeue() == &n[0]);
    REQUIRE(q.front()->prev == nullptr);  // the original set it to the node itself (defect 2)
    REQUIRE(n[0].next == nullptr);
    REQUIRE(q.dequeue() == &n[1]);
    REQUIRE(q.dequeue() == &n[2]);
    REQUIRE(q.empty());
    REQUIRE(q.count() == 0);

    IntrusiveQueue<Node> a;
    IntrusiveQueue<Node> b;
    a.enqueue(&n[0]);
    a.enqueue(&n[1]);
    b.enqueue(&n[2]);
    a.move(b);
    REQUIRE(a.empty());
    REQUIRE(b.count() == 3);
    REQUIRE(b.dequeue() == &n[2]);
    REQUIRE(b.dequeue() == &n[0]);
    REQUIRE(b.dequeue() == &n[1]);
    IntrusiveQueue<Node> c(std::move(b));
    REQUIRE(c.empty());
}

namespace {
// The values of q from head to tail, following next; checks that prev mirrors next on the way.
std::vector<int> values(const IntrusiveQueue<Node>& q) {
    std::vector<int> out;
    const Node* prev = nullptr;
    for (const Node* n = q.front(); n != nullptr; n = n->next) {
        REQUIRE(n->prev == prev);
        out.push_back(n->v);
        prev = n;
    }
    REQUIRE(out.size() == q.count());
    return out;
}
}  // namespace

TEST_CASE("queue: insertBefore at the head, in the middle and at the tail", "[queue]") {
    auto n = nodes<5>();
    IntrusiveQueue<Node> q;
    q.insertBefore(nullptr, &n[2]);  // empty queue: nullptr means the tail
    REQUIRE(values(q) == std::vector<int>{2});
    q.insertBefore(&n[2], &n[0]);  // before the head: the new head
    REQUIRE(q.front() == &n[0]);
    REQUIRE(values(q) == std::vector<int>{0, 2});
    q.insertBefore(&n[2], &n[1]);  // in the middle
    REQUIRE(values(q) == std::vector<int>{0, 1, 2});
    q.insertBefore(nullptr, &n[4]);  // at the tail
    q.insertBefore(&n[4], &n[3]);
    REQUIRE(values(q) == std::vector<int>{0, 1, 2, 3, 4});
    for (int i = 0; i < 5; ++i) {
        REQUIRE(q.dequeue() == &n[i]);
    }
    REQUIRE(q.empty());
    q.enqueue(&n[4]);  // the tail was kept right: enqueue after draining starts afresh
    REQUIRE(values(q) == std::vector<int>{4});
}

TEST_CASE("queue: move into an empty or filled queue, and move assignment", "[queue]") {
    auto n = nodes<4>();
    IntrusiveQueue<Node> a;
    IntrusiveQueue<Node> b;
    a.move(b);  // nothing to move: both stay empty
    REQUIRE(a.empty());
    REQUIRE(b.empty());

    a.enqueue(&n[0]);
    a.enqueue(&n[1]);
    a.move(b);  // into an empty queue
    REQUIRE(a.count() == 0);
    REQUIRE(values(b) == std::vector<int>{0, 1});
    a.enqueue(&n[2]);
    a.enqueue(&n[3]);
    a.move(b);  // appended behind what b holds
    REQUIRE(values(b) == std::vector<int>{0, 1, 2, 3});
    REQUIRE(b.dequeue() == &n[0]);
    a.enqueue(&n[0]);  // a dequeued node may join another queue
    REQUIRE(values(a) == std::vector<int>{0});

    IntrusiveQueue<Node> c;
    c = std::move(b);
    REQUIRE(b.empty());  // NOLINT(bugprone-use-after-move): a moved-from queue is empty by contract
    REQUIRE(b.count() == 0);
    REQUIRE(values(c) == std::vector<int>{1, 2, 3});
    c = std::move(a);  // replaces c's content (the nodes are the caller's: nothing is freed)
    REQUIRE(values(c) == std::vector<int>{0});
}
