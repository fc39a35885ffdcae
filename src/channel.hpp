// A channel as the reactor thread sees it: an active object that owns its socket and reacts to the
// poller's events (libzmq's io_object/stream_engine, asio's descriptor_state). Three kinds: a Listener
// (Welcome), a Connector (a Hello being connected) and a Connection (frames both ways).
//
// Created, driven and closed on the reactor thread only. The loop finds a channel by its poll token (the
// channel number plus a generation, so a closed channel's late events miss) and calls onEvent(); a closed
// channel waits in the loop's graveyard until the end of the pass, so a pointer taken during a pass stays
// valid for it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "intrusive_queue.hpp"
#include "resolver.hpp"
#include "socket.hpp"
#include "tofu/message.hpp"
#include "tofu/stats.hpp"
#include "tofu/status.hpp"

namespace tofu::detail {

class Loop;
class MchnGroup;
class Connection;

class Channel {
  public:
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;
    virtual ~Channel() = default;

    /// Readiness from the poller (PollEvents bits).
    virtual void onEvent(std::uint32_t events) = 0;
    /// A message from the application for this channel: neither Welcome nor Hello, from its own group.
    virtual void submit(Message* m) = 0;
    /// A time the channel asked for (Loop::schedule) has come.
    virtual void onTimer() {}
    /// The pool has messages again (a channel that asked with Loop::waitForPool).
    virtual void onRefill() {}
    /// Write what the application queued in this pass (a channel that asked with Loop::flushLater).
    virtual void onFlush() {}
    /// The resolver's answer for this channel's host name.
    virtual void onResolved(Resolver::Result& r) { (void)r; }
    /// This channel as a Connection, for the dead-peer watch.
    [[nodiscard]] virtual Connection* asConnection() noexcept { return nullptr; }
    [[nodiscard]] virtual ChannelStats::Kind kind() const noexcept = 0;
    /// For Reactor::channelStats(): what this kind knows (state, address, queue, traffic) into out, whose
    /// number, kind and time of opening are filled already.
    virtual void describe(ChannelStats& out) const = 0;
    /// The snapshot of this channel.
    [[nodiscard]] ChannelStats stats() const;

    /// Closes the channel: off the poller, socket closed, number freed; unless silent, what was queued
    /// comes back to the application (status `reason`) followed by a channel_closed notice. The object
    /// lives on until the end of the pass.
    void close(AmpeStatus reason, bool silent = false) noexcept;

    [[nodiscard]] ChannelNumber number() const noexcept { return cn_; }
    [[nodiscard]] MchnGroup& group() const noexcept { return *group_; }
    [[nodiscard]] bool closed() const noexcept { return closed_; }
    [[nodiscard]] NativeSocket fd() const noexcept { return fd_.get(); }
    [[nodiscard]] std::uint64_t token() const noexcept { return (std::uint64_t{gen_} << 16) | cn_; }

    /// Position in the group's channel list (the loop keeps it), so a group's channels close in O(n).
    std::size_t groupIndex = 0;
    /// Position in the loop's list of every channel (for channelStats: the open ones, not 65536 slots).
    std::size_t liveIndex = 0;

  protected:
    Channel(Loop& loop, MchnGroup& group, ChannelNumber cn, std::uint32_t gen, MessageID openMid) noexcept
        : loop_(loop),
          group_(&group),
          openMid_(openMid),
          since_(std::chrono::system_clock::now()),
          cn_(cn),
          gen_(gen) {}

    /// Registers the socket with the poller; on failure closes the channel (only it) and returns false.
    [[nodiscard]] bool watch(std::uint32_t events, bool silentOnFailure = false) noexcept;
    /// Off the poller (while the socket stays open).
    void unwatch() noexcept;
    [[nodiscard]] bool watched() const noexcept { return watched_; }
    /// Tells the poller what the channel waits for now (interest()).
    void updateInterest() noexcept;
    /// The events the channel waits for in its current state.
    [[nodiscard]] virtual std::uint32_t interest() const noexcept = 0;

    // close() steps that differ by kind.
    /// Whether the application never heard of this channel (closes silently whatever the caller says).
    [[nodiscard]] virtual bool unknownToApplication() const noexcept { return false; }
    /// The cause a close for `reason` is counted under (EngineStats::closedBye...).
    [[nodiscard]] virtual AmpeStatus countedCause(AmpeStatus reason) const noexcept { return reason; }
    /// Before the socket closes (e.g. a listener removes its socket file).
    virtual void beforeClose() noexcept {}
    /// What was queued and not sent, in order, ready to come back (the queue ends empty).
    [[nodiscard]] virtual IntrusiveQueue<Message> takeUnsent() noexcept { return {}; }

    Loop& loop_;
    MchnGroup* group_;
    UniqueFd fd_;
    MessageID openMid_;  // the Welcome/Hello (or an accepted HelloRequest) that opened it: its close notice
    std::chrono::system_clock::time_point since_;  // opened (for a Connection: connected or accepted)

  private:
    friend class Loop;

    ChannelNumber cn_;
    std::uint32_t gen_;
    bool watched_ = false;        // registered with the poller
    std::uint32_t interest_ = 0;  // what the poller was last told (no call when it stays the same)
    bool closed_ = false;
};

}  // namespace tofu::detail
