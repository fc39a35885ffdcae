// One channel as the reactor thread sees it: a listener, a client still connecting, or a connected peer.
// Owned and touched by the reactor thread only.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "frame_decoder.hpp"
#include "intrusive_queue.hpp"
#include "socket.hpp"
#include "tofu/message.hpp"

namespace tofu::detail {

class MchnGroup;

struct Channel {
    enum class Kind : std::uint8_t {
        listener,    // accepts connections (Welcome)
        connecting,  // client whose Hello waits for resolve/connect
        io,          // connected: frames flow both ways
    };

    ChannelNumber cn = 0;
    std::uint32_t gen = 0;  // makes poll tokens of a closed channel stale
    Kind kind = Kind::io;
    UniqueFd fd;
    MchnGroup* group = nullptr;
    /// Id of the Welcome/Hello that opened the channel, for its channel_closed signal.
    MessageID openMid = 0;
    UdsFileId udsFile;  // listener: its socket file, removed at close only if the path still names it

    std::size_t groupIndex = 0;  // position in group->channels

    bool stopSending = false;    // a bye went out: nothing more is sent, but a ByeResponse
    bool helloAnswered = false;  // accepted channel: the application queued its HelloResponse
    bool peerEof = false;        // the peer shut its side: send what is queued, then close
    bool peerDead = false;       // the liveness watch gave up on the peer: nothing more can be sent
    bool paused = false;         // no pool message for the next frame: not reading
    bool poolSignalled = false;
    bool detached = false;  // removed from the poller while paused after a hang-up
    bool registered = false;
    bool closed = false;
    bool flushQueued = false;
    // Listener: accept paused after EMFILE and the like. Connecting: a UDS listener's backlog was full,
    // the connect is tried again at backoffUntil (until connectDeadline).
    bool backoff = false;
    std::chrono::steady_clock::time_point backoffUntil{};
    std::chrono::steady_clock::time_point connectDeadline{};
    std::chrono::milliseconds retryDelay{0};
    // Dead-peer watch (liveness.hpp): listed while the kernel may hold bytes the peer has not acknowledged;
    // never for a Unix socket or a peer already declared dead.
    enum class Watch : std::uint8_t { off, listed, never };
    Watch watch = Watch::off;

    // Sending: the queue and how much of its head frame is already written.
    IntrusiveQueue<Message> sendQ;
    std::size_t sentOff = 0;
    std::size_t queuedBytes = 0;  // whole frames in sendQ, counted for the send-queue limit

    // Connecting: every address resolved, the next one to try, the status of the last failure.
    std::vector<Endpoint> endpoints;
    std::size_t nextEndpoint = 0;
    AmpeStatus connectStatus = AmpeStatus::connect_failed;
    std::string failText;  // the last failure's explanation, for the returned Hello's ~error header

    // Receiving: the frame decoder (it knows whether we accepted the connection) and bytes kept
    // while paused.
    FrameDecoder decoder;
    std::vector<std::uint8_t> stash;

    [[nodiscard]] static std::size_t frameSize(const Message& m) noexcept {
        return BinaryHeader::BHSIZE + m.bhdr.thl + m.bhdr.bl;
    }

    [[nodiscard]] std::uint64_t token() const noexcept { return (std::uint64_t{gen} << 16) | cn; }
};

}  // namespace tofu::detail
