// The engine: lifecycle, the Ampe API and the reactor thread.
#if defined(__linux__)
#include <pthread.h>
#endif
#include <algorithm>

#include "engine.hpp"

namespace tofu {

using detail::MchnGroup;

// ---- Reactor (public handle) ----

std::unique_ptr<Reactor> Reactor::Create(const Options& options) {
    return std::unique_ptr<Reactor>(new Reactor(std::make_unique<Impl>(options)));
}

Reactor::Reactor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Reactor::~Reactor() = default;
Ampe& Reactor::ampe() noexcept {
    return *impl_;
}
EngineStats Reactor::stats() const noexcept {
    return impl_->stats();
}
std::optional<std::vector<ChannelStats>> Reactor::channelStats(std::chrono::milliseconds timeout) const {
    return impl_->channelStats(timeout);
}

// ---- lifecycle ----

Reactor::Impl::Impl(const Options& options)
    : mr_(options.allocator != nullptr ? options.allocator : std::pmr::get_default_resource()),
      pool_(options.initialPoolMsgs, options.maxPoolMsgs, mr_),
      inbox_(detail::Notifier::preferred()) {
    // Called under the pool lock when a message comes back to a pool a reader found empty: non-blocking.
    pool_.core().setAlerter([this] { inbox_.poolRefilled(); });
    resolver_ = std::make_unique<detail::Resolver>([this] { inbox_.wake(); });
    loop_ = std::make_unique<detail::Loop>(options, pool_.core(), registry_, inbox_, *resolver_);
    thread_ = std::thread([this] { run(); });
}

Reactor::Impl::~Impl() {
    inbox_.stop();
    if (thread_.joinable()) {
        thread_.join();  // always (the original skipped the join when its alert failed)
    }
    resolver_.reset();
    // Groups the application did not destroy: wake their receivers, free their messages.
    std::vector<std::unique_ptr<MchnGroup>> groups;
    {
        std::lock_guard lock(groupsMutex_);
        groups.swap(groups_);
    }
    for (auto& g : groups) {
        g->shut();
        retire(std::move(g));
    }
    loop_.reset();
    pool_.core().setAlerter({});
    pool_.close();
}

void Reactor::Impl::run() noexcept {
#if defined(__linux__)
    (void)::pthread_setname_np(::pthread_self(), "tofu-reactor");  // as top, perf and gdb show it
#endif
    loop_->run();
    std::vector<detail::Inbox::DestroyCommand*> cmds;
    loop_->teardown(cmds);
    {
        std::lock_guard lock(groupsMutex_);
        for (auto& g : groups_) {
            g->closeMailbox();  // wakes every receiver: the engine is gone
        }
    }
    inbox_.complete(cmds);
}

void Reactor::Impl::retire(std::unique_ptr<MchnGroup> g) noexcept {
    g->closeMailbox();
    g->waitCallsDone();  // a woken waitReceive still has to leave the group
    g->mailbox.waitIdle();
    g->mailbox.discard();  // what the receiver took but never got to: back to the pool now
    // Kept, not freed: a late call on it gets shutdown_started.
    detail::GroupShelf::instance().put(std::move(g));
}

// ---- observing (application threads) ----

EngineStats Reactor::Impl::stats() const noexcept {
    EngineStats s;
    loop_->counters().read(s);
    const detail::PoolCore& pool = pool_.core();
    s.poolInitial = pool.initialMsgs();
    s.poolMax = pool.maxMsgs();
    s.poolFree = pool.count();
    s.poolFreeHigh = pool.highWater();
    s.poolAllocated = pool.allocated();
    return s;
}

std::optional<std::vector<ChannelStats>> Reactor::Impl::channelStats(std::chrono::milliseconds timeout) {
    auto q = std::make_shared<detail::Inbox::ChannelQuery>();
    if (!inbox_.ask(q, timeout)) {
        return std::nullopt;
    }
    return std::move(q->channels);  // answered: the reactor is done with it
}

// ---- Ampe API (application threads) ----

MessagePtr Reactor::Impl::get(AllocationStrategy strategy) {
    return pool_.get(strategy);
}

// Into this engine's pool, whichever pool (or none) the message came from: the original grows a pool
// by putting freshly created messages into it.
void Reactor::Impl::put(MessagePtr& msg) noexcept {
    pool_.core().put(msg.release());
}

ChannelGroup* Reactor::Impl::create() {
    if (!inbox_.open()) {
        throw AmpeError(AmpeStatus::shutdown_started, "engine closed");
    }
    std::unique_ptr<MchnGroup> g = detail::GroupShelf::instance().take();
    if (g) {
        g->reopen(*this);
    } else {
        g = std::make_unique<MchnGroup>(*this);
    }
    MchnGroup* raw = g.get();
    std::lock_guard lock(groupsMutex_);
    groups_.push_back(std::move(g));
    return raw;
}

void Reactor::Impl::destroy(ChannelGroup* group) {
    std::lock_guard serial(destroyMutex_);
    MchnGroup* g = nullptr;
    {
        std::lock_guard lock(groupsMutex_);
        for (auto& p : groups_) {
            if (p.get() == group) {
                g = p.get();
            }
        }
    }
    if (g == nullptr) {
        throw AmpeError(AmpeStatus::invalid_mchn_group, "not a live group of this engine");
    }
    g->shut();           // calls starting from now on fail with shutdown_started
    g->waitSendsDone();  // its messages in the inbox now all come before the command
    inbox_.destroy(*g);  // the reactor closes its channels and mailbox (unless it has stopped already)
    std::unique_ptr<MchnGroup> owned;
    {
        std::lock_guard lock(groupsMutex_);
        auto it = std::find_if(groups_.begin(), groups_.end(), [g](const auto& p) { return p.get() == g; });
        if (it != groups_.end()) {
            owned = std::move(*it);
            groups_.erase(it);
        }
    }
    if (owned) {
        retire(std::move(owned));
    }
}

}  // namespace tofu
