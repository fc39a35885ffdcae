// Sample for docs/guide/channel-group.md: creating and destroying groups, waking a receiver.
#include <fmt/format.h>

#include <thread>
#include <tofu/tofu.hpp>

namespace {

// --8<-- [start:explicit]
void explicitLifetime(tofu::Ampe& ampe) {
    tofu::ChannelGroup* chnls = ampe.create();
    try {
        // ... use *chnls ...
        ampe.destroy(chnls);  // closes its channels, returns its queued messages to the pool
    } catch (const tofu::AmpeError& e) {
        fmt::print(stderr, "destroy failed: {}\n", e.status());
    }
}
// --8<-- [end:explicit]

// --8<-- [start:raii]
void scopedLifetime(tofu::Ampe& ampe) {
    tofu::DestroyChannels chnls(ampe);  // the group lives until the end of this scope
    tofu::ChannelGroup& group = *chnls;
    // ... group.enqueueToPeer(...), group.waitReceive(...) ...
    (void)group;
}  // destroyed here, even when an exception leaves the scope
// --8<-- [end:raii]

// --8<-- [start:raii-short]
void scopedLifetimeShort(tofu::Ampe& ampe) {
    tofu::Group chnls = ampe.createGroup();  // Group is DestroyChannels' C++ name; createGroup() makes one
    // ... chnls->enqueueToPeer(...), chnls->waitReceive(...); chnls.get() is the ChannelGroup* ...
}  // destroyed here
// --8<-- [end:raii-short]

// --8<-- [start:wake]
bool wakeFromAnotherThread(tofu::ChannelGroup& chnls) {
    std::thread waker([&chnls] {
        chnls.updateReceiver();  // no message: the engine queues a receiver_update signal
    });
    tofu::MessagePtr msg = chnls.waitReceive(tofu::waitReceive_INFINITE_TIMEOUT);
    waker.join();
    return msg && msg->fromEngine() && msg->status() == tofu::AmpeStatus::receiver_update;
}
// --8<-- [end:wake]

// --8<-- [start:hand]
bool handOverAMessage(tofu::Ampe& ampe, tofu::ChannelGroup& chnls) {
    tofu::MessagePtr note = ampe.get(tofu::AllocationStrategy::always);
    note->body.assign("reload the configuration");
    chnls.updateReceiver(note);  // note is empty now: the group's queue owns the message

    tofu::MessagePtr got = chnls.waitReceive(tofu::waitReceive_SEC_TIMEOUT);
    return got && !got->fromEngine() && got->status() == tofu::AmpeStatus::receiver_update &&
           got->text() == "reload the configuration";
}
// --8<-- [end:hand]

}  // namespace

int main() {
    try {
        std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create();
        tofu::Ampe& ampe = reactor->ampe();
        explicitLifetime(ampe);
        scopedLifetime(ampe);
        scopedLifetimeShort(ampe);

        tofu::Group chnls = ampe.createGroup();
        const bool woken = wakeFromAnotherThread(*chnls);
        const bool handed = handOverAMessage(ampe, *chnls);
        fmt::print("woken: {}, handed over: {}\n", woken, handed);
        return woken && handed ? 0 : 1;
    } catch (const tofu::AmpeError& e) {
        fmt::print(stderr, "channel_group_basics: {}\n", e.what());
        return 1;
    }
}
