// Sample for docs/guide/key-ingredients.md: every ingredient, created and released in order.
#include <fmt/format.h>

#include <tofu/tofu.hpp>

int main() {
    // --8<-- [start:setup]
    tofu::Options options;
    options.initialPoolMsgs = 16;  // messages made up front
    options.maxPoolMsgs = 64;      // most messages the pool keeps

    std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create(options);  // starts the engine's thread
    tofu::Ampe& ampe = reactor->ampe();                                       // the engine's interface

    tofu::DestroyChannels chnls(ampe);  // ampe.create() now, ampe.destroy() at the end of the scope

    tofu::MessagePtr msg = ampe.get(tofu::AllocationStrategy::always);  // a message from the pool
    // ... fill msg, then hand it over with chnls->enqueueToPeer(msg) ...
    // --8<-- [end:setup]

    if (!msg) {
        fmt::print(stderr, "no message from the pool\n");
        return 1;
    }
    fmt::print("engine, channel group and message are ready\n");
    return 0;
}  // msg returns to the pool, the group is destroyed, then the engine stops: reverse order of creation
