// tofu: the engine (Ampe) and channel group interfaces.
//
// Ownership, per call:
//  - Ampe::get                 -> the caller owns the message (MessagePtr); dropping it returns it to the
//  pool.
//  - Ampe::put(m)              -> the pool owns it; m is empty afterwards.
//  - ChannelGroup::enqueueToPeer(m): on success the engine owns it and m is empty; on a validation error
//                                 (AmpeError thrown) the caller keeps it, with bhdr.status set to the reason.
//  - ChannelGroup::waitReceive -> the caller owns what it returns (empty on timeout).
//  - ChannelGroup::updateReceiver(m): on success the group's receive queue owns it; m is empty afterwards.
//
// Groups, per call:
//  - Ampe::create              -> the engine owns the group; the pointer is for use until destroy() of it.
//  - a call on a group (enqueueToPeer, waitReceive, updateReceiver) that overlaps Ampe::destroy() of that
//    group either completes normally (its usual refusals included, e.g. invalid_channel_number for a
//    channel destroy() has closed already) or throws AmpeError(shutdown_started); none touches freed
//    memory: destroy() waits for the calls already inside, and a blocked waitReceive is woken and throws.
//  - a call made after destroy() returned throws AmpeError(shutdown_started) too: a destroyed group's memory
//    is kept (process-wide) and recycled only after 64 more groups were destroyed. So drop the pointer at
//    destroy(): after many create()/destroy() in between, it may name a new group.
//  - Ampe::destroy of a group that is not alive (destroyed already, or not this engine's) throws
//    AmpeError(invalid_mchn_group).
//  - destroying the engine (the Reactor) does the same for every group still alive: calls inside are woken
//    or waited for, and a call on such a group during or after the engine's destruction throws
//    AmpeError(shutdown_started) (until the group's memory is recycled, as above). Any use of the Ampe
//    itself after the Reactor is destroyed is undefined.
#pragma once

#include "tofu/export.hpp"

#include <chrono>
#include <cstdint>
#include <memory_resource>
#include <span>
#include <string_view>
#include <system_error>

#include "tofu/message.hpp"
#include "tofu/options.hpp"
#include "tofu/status.hpp"

namespace tofu {

/// A set of channels with one receive queue. Client and server are roles of the handshake only;
/// afterwards both ends are equal peers.
class TOFU_API ChannelGroup {
  public:
    virtual ~ChannelGroup() = default;

    /// Validates msg (check_and_prepare) on the calling thread and hands it to the engine: to a peer,
    /// or for Welcome/Hello requests with channel 0, to a new channel. Returns the header as sent
    /// (channel number and message id for correlation). Thread-safe. Throws AmpeError(shutdown_started)
    /// once destroy() of the group has begun (the caller keeps msg).
    virtual BinaryHeader enqueueToPeer(MessagePtr& msg) = 0;

    /// The same for a message passed by value, e.g. `enqueueToPeer(ampe.request(ch, "ping"))` or
    /// `enqueueToPeer(std::move(msg))`. On a refusal (AmpeError thrown) a temporary goes back to the pool;
    /// a variable passed with std::move still holds the message, as with the `&` form.
    BinaryHeader enqueueToPeer(MessagePtr&& msg) { return enqueueToPeer(msg); }

    /// enqueueToPeer() without exceptions (asio style): on success ec is cleared and msg is empty; on a
    /// refusal ec holds the AmpeStatus (a tofu_category() code), msg still holds the message and the header
    /// returned is empty but for its status byte. A fan-out loop sending to channels that may have closed
    /// checks ec instead of catching (invalid_channel_number for a channel that is gone).
    BinaryHeader enqueueToPeer(MessagePtr& msg, std::error_code& ec) noexcept;
    /// The same for a message passed by value; a refused temporary goes back to the pool.
    BinaryHeader enqueueToPeer(MessagePtr&& msg, std::error_code& ec) noexcept {
        return enqueueToPeer(msg, ec);
    }

    /// Upstream's later name for enqueueToPeer(): the same call, with the same ownership rules.
    BinaryHeader post(MessagePtr& msg) { return enqueueToPeer(msg); }
    /// Upstream's later name for enqueueToPeer(MessagePtr&&).
    BinaryHeader post(MessagePtr&& msg) { return enqueueToPeer(msg); }
    /// Upstream's later name for enqueueToPeer(MessagePtr&, std::error_code&).
    BinaryHeader post(MessagePtr& msg, std::error_code& ec) noexcept { return enqueueToPeer(msg, ec); }
    /// Upstream's later name for enqueueToPeer(MessagePtr&&, std::error_code&).
    BinaryHeader post(MessagePtr&& msg, std::error_code& ec) noexcept { return enqueueToPeer(msg, ec); }

    /// Next message for this group: from a peer, from updateReceiver, or from the engine (origin engine).
    /// Empty on timeout; a timeout of 2^62 ns (~146 years) or more waits for ever, like
    /// waitReceive_INFINITE_TIMEOUT. Throws AmpeError(shutdown_started) when the group or engine is going
    /// away (a wait in progress when destroy() starts is woken to throw) or is gone. Call from one thread
    /// only.
    [[nodiscard]] virtual MessagePtr waitReceive(std::uint64_t timeout_ns) = 0;

    /// waitReceive() with a std::chrono duration, e.g. `waitReceive(5s)`: a zero or negative duration
    /// only looks, one beyond the nanosecond range waits for ever (as does waitReceive_FOREVER).
    template <class Rep, class Period>
    [[nodiscard]] MessagePtr waitReceive(std::chrono::duration<Rep, Period> timeout) {
        return waitReceive(toTimeoutNs(timeout));
    }

    /// waitReceive() without exceptions: empty on timeout (ec cleared) or on failure (ec holds the
    /// AmpeStatus, e.g. shutdown_started).
    [[nodiscard]] MessagePtr waitReceive(std::uint64_t timeout_ns, std::error_code& ec) noexcept;
    /// The chrono form without exceptions.
    template <class Rep, class Period>
    [[nodiscard]] MessagePtr waitReceive(std::chrono::duration<Rep, Period> timeout,
                                         std::error_code& ec) noexcept {
        return waitReceive(toTimeoutNs(timeout), ec);
    }

    /// Puts msg into this group's receive queue with status receiver_update (origin application);
    /// an empty msg queues a receiver_update signal instead. FIFO. Thread-safe. Throws
    /// AmpeError(shutdown_started) once destroy() of the group has begun (the caller keeps msg).
    virtual void updateReceiver(MessagePtr& msg) = 0;

    /// Same as updateReceiver with an empty message.
    void updateReceiver() {
        MessagePtr none;
        updateReceiver(none);
    }
    /// The same for a message passed by value.
    void updateReceiver(MessagePtr&& msg) { updateReceiver(msg); }
    /// updateReceiver() without exceptions: ec holds the AmpeStatus on failure (msg then kept).
    void updateReceiver(MessagePtr& msg, std::error_code& ec) noexcept;
    /// updateReceiver() with an empty message, without exceptions.
    void updateReceiver(std::error_code& ec) noexcept {
        MessagePtr none;
        updateReceiver(none, ec);
    }

    /// A std::chrono duration as a waitReceive() timeout in nanoseconds: 0 for zero or negative,
    /// waitReceive_INFINITE_TIMEOUT beyond the nanosecond range.
    template <class Rep, class Period>
    [[nodiscard]] static constexpr std::uint64_t toTimeoutNs(std::chrono::duration<Rep, Period> d) noexcept {
        if (d <= d.zero()) {
            return 0;
        }
        using LongNs = std::chrono::duration<long double, std::nano>;
        if (std::chrono::duration_cast<LongNs>(d).count() >=
            static_cast<long double>(std::chrono::nanoseconds::max().count())) {
            return waitReceive_INFINITE_TIMEOUT;
        }
        return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
    }
};

class DestroyChannels;

/// The asynchronous message passing engine. All members are thread-safe.
class TOFU_API Ampe {
  public:
    virtual ~Ampe() = default;

    /// A message from the pool (reset). Empty when the pool is empty and strategy is poolOnly.
    /// Throws AmpeError(allocation_failed) when a new message cannot be allocated.
    [[nodiscard]] virtual MessagePtr get(AllocationStrategy strategy) = 0;

    /// get() without exceptions: empty with ec set when no message can be had — pool_empty (poolOnly and
    /// the pool is empty) or allocation_failed.
    [[nodiscard]] MessagePtr get(AllocationStrategy strategy, std::error_code& ec) noexcept;

    /// Puts msg into this engine's pool — also a message from Message::create() or another engine, which is
    /// how a pool grows — or frees it when the pool is full or closed; msg is empty afterwards.
    virtual void put(MessagePtr& msg) noexcept = 0;

    /// A new channel group, owned by the engine until destroy(). Throws AmpeError(shutdown_started) when
    /// the engine is stopping.
    [[nodiscard]] virtual ChannelGroup* create() = 0;

    /// A new channel group that owns itself: destroyed when the returned handle goes out of scope (the
    /// RAII form of create() + destroy(); DestroyChannels is the original's name for the handle, Group
    /// the C++ one). Throws AmpeError(shutdown_started) when the engine is stopping.
    [[nodiscard]] DestroyChannels createGroup();

    /// Closes every channel of the group silently (no close notices) and returns its messages to the pool.
    /// Calls on the group that overlap it complete or throw AmpeError(shutdown_started); it returns once
    /// none is inside (a blocked waitReceive is woken and throws). Later calls on the group throw
    /// shutdown_started too (its memory is recycled only after 64 more groups were destroyed, process-wide:
    /// do not keep the pointer). Throws AmpeError(invalid_mchn_group) when group is not a live group of this
    /// engine.
    virtual void destroy(ChannelGroup* group) = 0;

    /// destroy() without exceptions: ec holds the AmpeStatus on failure (invalid_mchn_group).
    void destroy(ChannelGroup* group, std::error_code& ec) noexcept;

    /// The memory resource messages are allocated from.
    virtual std::pmr::memory_resource* getAllocator() noexcept = 0;

    // ---- Builders: a message from the pool (get(AllocationStrategy::always)) in a common shape ----

    /// An application request on channel ch carrying body (Message::asRequest). Throws
    /// AmpeError(allocation_failed) when no message can be allocated.
    [[nodiscard]] MessagePtr request(ChannelNumber ch, std::string_view body = {}) {
        MessagePtr m = get(AllocationStrategy::always);
        m->asRequest(ch, body);
        return m;
    }
    /// An application request on channel ch carrying the bytes of body.
    [[nodiscard]] MessagePtr request(ChannelNumber ch, std::span<const std::uint8_t> body) {
        MessagePtr m = get(AllocationStrategy::always);
        m->asRequest(ch, body);
        return m;
    }
    /// A one-way application signal on channel ch carrying body (Message::asSignal).
    [[nodiscard]] MessagePtr signal(ChannelNumber ch, std::string_view body = {}) {
        MessagePtr m = get(AllocationStrategy::always);
        m->asSignal(ch, body);
        return m;
    }
    /// A one-way application signal on channel ch carrying the bytes of body.
    [[nodiscard]] MessagePtr signal(ChannelNumber ch, std::span<const std::uint8_t> body) {
        MessagePtr m = get(AllocationStrategy::always);
        m->asSignal(ch, body);
        return m;
    }
    /// A graceful close of channel ch: a ByeRequest (Message::asByeRequest).
    [[nodiscard]] MessagePtr byeRequest(ChannelNumber ch) {
        MessagePtr m = get(AllocationStrategy::always);
        m->asByeRequest(ch);
        return m;
    }
    /// An immediate close of channel ch: a ByeSignal, oob by default (Message::asByeSignal).
    [[nodiscard]] MessagePtr byeSignal(ChannelNumber ch, Oob oob = Oob::on) {
        MessagePtr m = get(AllocationStrategy::always);
        m->asByeSignal(ch, oob);
        return m;
    }
};

/// RAII owner of a channel group: destroys it at the end of the scope (the original's DestroyChannels).
class TOFU_API DestroyChannels {
  public:
    /// Takes ownership of group, which was created by engine.
    DestroyChannels(Ampe& engine, ChannelGroup* group) noexcept : engine_(&engine), group_(group) {}
    /// Creates a new group with engine.create() and owns it.
    explicit DestroyChannels(Ampe& engine) : engine_(&engine), group_(engine.create()) {}
    ~DestroyChannels() { reset(); }
    /// Takes over o's group; o owns nothing afterwards.
    DestroyChannels(DestroyChannels&& o) noexcept : engine_(o.engine_), group_(o.group_) {
        o.group_ = nullptr;
    }
    /// Destroys the group owned now and takes over o's; o owns nothing afterwards.
    DestroyChannels& operator=(DestroyChannels&& o) noexcept {
        if (this != &o) {
            reset();
            engine_ = o.engine_;
            group_ = o.group_;
            o.group_ = nullptr;
        }
        return *this;
    }
    DestroyChannels(const DestroyChannels&) = delete;
    DestroyChannels& operator=(const DestroyChannels&) = delete;

    /// The engine the group belongs to.
    [[nodiscard]] Ampe& ampe() const noexcept { return *engine_; }
    /// The owned group (nullptr after reset() or a move).
    [[nodiscard]] ChannelGroup* get() const noexcept { return group_; }
    /// Access to the owned group's members.
    ChannelGroup* operator->() const noexcept { return group_; }
    /// The owned group.
    ChannelGroup& operator*() const noexcept { return *group_; }

    /// Destroys the group now (errors from a shutting-down engine are ignored).
    void reset() noexcept {
        if (group_ != nullptr) {
            try {
                engine_->destroy(group_);
            } catch (...) {
            }
            group_ = nullptr;
        }
    }

  private:
    Ampe* engine_;
    ChannelGroup* group_;
};

/// The C++ name of the owning group handle that Ampe::createGroup() returns (the original's
/// DestroyChannels).
using Group = DestroyChannels;

inline DestroyChannels Ampe::createGroup() {
    return DestroyChannels(*this);
}

}  // namespace tofu
