#include "frame_decoder.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

namespace tofu::detail {

bool validIncoming(const BinaryHeader& bh, bool accepted, bool firstFrame) noexcept {
    return invalidReason(bh, accepted, firstFrame) == nullptr;
}

const char* invalidReason(const BinaryHeader& bh, bool accepted, bool firstFrame) noexcept {
    const ProtoFields& p = bh.proto;
    if (p.internal != 0) {
        return "internal bit set";
    }
    if (p.origin != OriginFlag::application) {
        return "origin engine";
    }
    if (bh.status > status_to_raw(AmpeStatus::unknown_error)) {
        return "unknown status";
    }
    const std::optional<ValidCombination> vc = toValidCombination(p.mtype, p.role);
    if (!vc) {
        return "no such type and role";
    }
    if (*vc == ValidCombination::WelcomeRequest) {
        return "a WelcomeRequest";  // Welcome never travels
    }
    if (p.more == MoreMessagesFlag::more && p.mtype != MessageType::regular) {
        return "'more' on a Hello or Bye";
    }
    if (p.role == MessageRole::response && bh.message_id == 0) {
        return "a response with message id 0";
    }
    if (accepted) {
        // Server side: a HelloRequest first, and only first; never a HelloResponse.
        if (*vc == ValidCombination::HelloResponse) {
            return "a HelloResponse to a server";
        }
        if (firstFrame != (*vc == ValidCombination::HelloRequest)) {
            return firstFrame ? "the first frame is not a HelloRequest" : "a second HelloRequest";
        }
        return nullptr;
    }
    // Client side: never a HelloRequest; the first frame answers our Hello (or says bye).
    if (*vc == ValidCombination::HelloRequest) {
        return "a HelloRequest to a client";
    }
    if (firstFrame && *vc != ValidCombination::HelloResponse && p.mtype != MessageType::bye) {
        return "the first frame neither a HelloResponse nor a bye";
    }
    return nullptr;
}

FrameDecoder::Step FrameDecoder::feed(std::span<const std::uint8_t>& in) noexcept {
    if (!haveHdr_) {
        if (in.empty()) {
            return Step::more;
        }
        if (hdrGot_ == 0 && in.size() >= BinaryHeader::BHSIZE) {
            // The usual case: the whole header is there. Read in place, field by field into bh_ (a
            // temporary header copied whole after byte stores stalls the store forwarding).
            bh_.fromBytes(in.first<BinaryHeader::BHSIZE>());
            in = in.subspan(BinaryHeader::BHSIZE);
        } else {
            const std::size_t take = std::min<std::size_t>(BinaryHeader::BHSIZE - hdrGot_, in.size());
            std::memcpy(hdr_.data() + hdrGot_, in.data(), take);
            in = in.subspan(take);
            hdrGot_ = static_cast<std::uint8_t>(hdrGot_ + take);
            if (hdrGot_ < BinaryHeader::BHSIZE) {
                return Step::more;
            }
            bh_.fromBytes(hdr_);
        }
        // Lengths need no check here: thl and bl are 16-bit, so a frame is at most 16 + 2 x 65535 bytes.
        if (!validIncoming(bh_, accepted_, firstFrame_)) {
            return Step::invalid;
        }
        haveHdr_ = true;
        got_ = 0;
    }
    if (msg_ == nullptr) {
        return Step::need_message;
    }
    const std::size_t thl = bh_.thl;
    const std::size_t total = thl + bh_.bl;
    while (got_ < total && !in.empty()) {
        std::uint8_t* dst = nullptr;
        std::size_t room = 0;
        if (got_ < thl) {
            dst = msg_->thdrs.buffer.data() + got_;
            room = thl - got_;
        } else {
            dst = msg_->body.data() + (got_ - thl);
            room = total - got_;
        }
        const std::size_t take = std::min(room, in.size());
        std::memcpy(dst, in.data(), take);
        in = in.subspan(take);
        got_ += take;
    }
    return got_ < total ? Step::more : Step::frame;
}

void FrameDecoder::attach(Message* m) {
    m->thdrs.buffer.resize(bh_.thl);
    m->body.resize(bh_.bl);
    m->bhdr = bh_;
    msg_ = m;
}

Message* FrameDecoder::take() noexcept {
    Message* m = msg_;
    msg_ = nullptr;
    haveHdr_ = false;
    hdrGot_ = 0;
    firstFrame_ = false;
    return m;
}

Message* FrameDecoder::abandon() noexcept {
    Message* m = msg_;
    msg_ = nullptr;
    return m;
}

}  // namespace tofu::detail
