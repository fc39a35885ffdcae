// Sample for docs/guide/advanced-topics.md: stopping a receiver thread, draining, printing headers.
#include <atomic>
#include <thread>

#include "sample_support.hpp"

namespace {

// --8<-- [start:drain]
/// Handles everything already queued without waiting, then waits up to `timeout` for one more.
int drainThenWait(tofu::ChannelGroup& chnls, std::uint64_t timeout) {
    int handled = 0;
    while (tofu::MessagePtr msg = chnls.waitReceive(0)) {  // 0: never blocks
        ++handled;                                         // ... handle msg ...
    }
    if (tofu::MessagePtr msg = chnls.waitReceive(timeout)) {
        fmt::print("{}\n", msg->bhdr);  // {fmt} prints a binary header: channel, kind, id, lengths, status
        ++handled;
    }
    return handled;
}
// --8<-- [end:drain]

}  // namespace

int main() {
    try {
        std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create();
        tofu::Ampe& ampe = reactor->ampe();
        tofu::DestroyChannels chnls(ampe);

        // --8<-- [start:stop]
        std::atomic<bool> stop{false};
        std::thread receiver([&] {
            while (!stop) {
                tofu::MessagePtr msg = chnls->waitReceive(tofu::waitReceive_INFINITE_TIMEOUT);
                // ... handle msg; a receiver_update signal from the engine just says "look at your flags"
            }
        });

        // Later, on any other thread: first the flag, then the wake-up.
        stop = true;
        chnls->updateReceiver();  // queues a receiver_update signal: the wait ends, the loop sees the flag
        receiver.join();
        // --8<-- [end:stop]

        for (int i = 0; i < 3; ++i) {
            chnls->updateReceiver();
        }
        const int handled = drainThenWait(*chnls, 1'000'000);  // 1 ms
        fmt::print("receiver stopped; then drained {} message(s)\n", handled);
        return handled >= 3 ? 0 : 1;
    } catch (const tofu::AmpeError& e) {
        fmt::print(stderr, "advanced_wakeup: {}\n", e.what());
        return 1;
    }
}
