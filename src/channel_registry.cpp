#include "channel_registry.hpp"

namespace tofu::detail {

ChannelRegistry::ChannelRegistry() : rng_(std::random_device{}()) {}

ChannelNumber ChannelRegistry::allocate(const void* owner) {
    std::lock_guard lock(mutex_);
    if (active_ >= Usable) {
        return 0;
    }
    // Random start, then a linear probe: bounded, never spins (every number is visited at most once).
    const auto start = static_cast<std::uint32_t>(rng_() % Usable);
    ChannelNumber fallback = 0;
    for (std::uint32_t i = 0; i < Usable; ++i) {
        const auto cn = static_cast<ChannelNumber>(1 + (start + i) % Usable);
        if (owners_[cn].load(std::memory_order_relaxed) != nullptr) {
            continue;
        }
        if (recent_[cn]) {
            if (fallback == 0) {
                fallback = cn;  // only recently removed numbers are left: reuse the first one seen
            }
            continue;
        }
        owners_[cn].store(owner, std::memory_order_release);
        ++active_;
        return cn;
    }
    if (fallback != 0) {
        owners_[fallback].store(owner, std::memory_order_release);
        ++active_;
    }
    return fallback;
}

void ChannelRegistry::remove(ChannelNumber cn) noexcept {
    std::lock_guard lock(mutex_);
    if (cn == SpecialMinChannelNumber || cn == SpecialMaxChannelNumber ||
        owners_[cn].load(std::memory_order_relaxed) == nullptr) {
        return;
    }
    owners_[cn].store(nullptr, std::memory_order_release);
    --active_;
    if (ringCount_ == RecentCapacity) {
        recent_[ring_[ringHead_]] = false;  // the oldest removal may be reused again
    } else {
        ++ringCount_;
    }
    ring_[ringHead_] = cn;
    recent_[cn] = true;
    ringHead_ = (ringHead_ + 1) % RecentCapacity;
}

AmpeStatus ChannelRegistry::check(ChannelNumber cn, const void* owner) const noexcept {
    const void* o = owners_[cn].load(std::memory_order_acquire);
    if (o == nullptr) {
        return AmpeStatus::invalid_channel_number;
    }
    return o == owner ? AmpeStatus::success : AmpeStatus::invalid_mchn_group;
}

std::size_t ChannelRegistry::count() const noexcept {
    std::lock_guard lock(mutex_);
    return active_;
}

}  // namespace tofu::detail
