// Sample for docs/guide/advanced-topics.md: sizing the pool, allocation strategies, your own allocator.
#include <memory_resource>

#include "sample_support.hpp"

namespace {

// --8<-- [start:grow]
void addToPool(tofu::Ampe& ampe, int count) {
    for (int i = 0; i < count; ++i) {
        tofu::MessagePtr spare = tofu::Message::create(ampe.getAllocator());  // same memory as the engine's
        ampe.put(spare);  // kept while the pool is below maxPoolMsgs, freed otherwise
    }
}
// --8<-- [end:grow]

}  // namespace

int main() {
    try {
        // --8<-- [start:options]
        std::pmr::synchronized_pool_resource memory;  // thread-safe: the engine thread allocates too

        tofu::Options options;
        options.initialPoolMsgs = 4;  // made when the engine starts
        options.maxPoolMsgs = 8;      // the most the pool keeps; extra messages are freed when put back
        options.allocator = &memory;  // must outlive the engine and every message
        std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create(options);
        tofu::Ampe& ampe = reactor->ampe();
        // --8<-- [end:options]

        // --8<-- [start:strategies]
        std::vector<tofu::MessagePtr> held;
        while (tofu::MessagePtr m = ampe.get(tofu::AllocationStrategy::poolOnly)) {
            held.push_back(std::move(m));  // poolOnly: an empty MessagePtr once the pool is dry
        }
        tofu::MessagePtr extra = ampe.get(tofu::AllocationStrategy::always);  // always: allocates if needed
        held.clear();                                                         // all of them back to the pool
        // --8<-- [end:strategies]

        bool ok = samples::expect(extra != nullptr, "always gives a message");
        ampe.put(extra);
        ok = samples::expect(extra == nullptr, "put empties the handle") && ok;
        addToPool(ampe, 2);
        ok = samples::expect(ampe.get(tofu::AllocationStrategy::poolOnly) != nullptr, "pool refilled") && ok;
        fmt::print("pool sized, drained and refilled\n");
        reactor.reset();  // the engine goes before `memory`
        return ok ? 0 : 1;
    } catch (const tofu::AmpeError& e) {
        fmt::print(stderr, "advanced_pool: {}\n", e.what());
        return 1;
    }
}
