// Turns a byte stream from a peer into messages: the 16-byte header, then text headers and body.
//
// Pure (no sockets, no pool): the reactor feeds it what recv() returned and supplies a message when
// a valid header asks for one, so the decoder is tested and fuzzed on its own.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "tofu/message.hpp"

namespace tofu::detail {

/// The rules every header read from the network must pass before anything is allocated for it.
/// accepted: the server side of the connection; firstFrame: nothing has been received yet.
[[nodiscard]] bool validIncoming(const BinaryHeader& bh, bool accepted, bool firstFrame) noexcept;
/// Which rule bh breaks, in words for the engine log; nullptr when it breaks none.
[[nodiscard]] const char* invalidReason(const BinaryHeader& bh, bool accepted, bool firstFrame) noexcept;

class FrameDecoder {
  public:
    enum class Step : std::uint8_t {
        more,          // every byte consumed; the frame is not complete yet
        need_message,  // a valid header: attach() a message, then feed the rest again
        frame,         // a message is complete: take() it, then feed the rest again
        invalid,       // the header breaks the rules: the connection must close
    };

    explicit FrameDecoder(bool accepted = false) noexcept : accepted_(accepted) {}
    ~FrameDecoder() = default;
    FrameDecoder(const FrameDecoder&) = delete;
    FrameDecoder& operator=(const FrameDecoder&) = delete;

    /// Consumes bytes from the front of in, stopping at the first event.
    [[nodiscard]] Step feed(std::span<const std::uint8_t>& in) noexcept;

    /// Gives the frame announced by need_message a home (its buffers are sized here; may throw
    /// std::bad_alloc, in which case the decoder still owns nothing).
    void attach(Message* m);

    /// The completed message (frame), with the header as received.
    [[nodiscard]] Message* take() noexcept;

    /// The message being filled, if any (on close, to return it to its pool).
    [[nodiscard]] Message* abandon() noexcept;

    [[nodiscard]] bool accepted() const noexcept { return accepted_; }
    /// The last header read (after Step::invalid: the one refused).
    [[nodiscard]] const BinaryHeader& header() const noexcept { return bh_; }
    void setAccepted(bool accepted) noexcept { accepted_ = accepted; }
    /// True until the first frame has been taken.
    [[nodiscard]] bool firstFrame() const noexcept { return firstFrame_; }

  private:
    std::array<std::uint8_t, BinaryHeader::BHSIZE> hdr_{};
    BinaryHeader bh_{};
    Message* msg_ = nullptr;
    std::size_t got_ = 0;  // bytes of the current frame's text headers + body received
    std::uint8_t hdrGot_ = 0;
    bool haveHdr_ = false;
    bool accepted_;
    bool firstFrame_ = true;
};

}  // namespace tofu::detail
