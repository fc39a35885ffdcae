// libFuzzer: the frame decoder on an arbitrary byte stream, split at arbitrary points.
//
// Input: byte 0 picks the side (accepted or not) and seeds the split sizes; the rest is the stream.
// Property: decoding the stream in one piece and in random pieces gives the same frames and stops
// at the same invalid header; every frame's buffers have the sizes its header announced.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "frame_decoder.hpp"
#include "tofu/message.hpp"

namespace {

struct Frame {
    tofu::BinaryHeader bh;
    std::vector<std::uint8_t> thdrs;
    std::vector<std::uint8_t> body;
    bool operator==(const Frame& o) const {
        return bh.toBytes() == o.bh.toBytes() && thdrs == o.thdrs && body == o.body;
    }
};

struct Outcome {
    std::vector<Frame> frames;
    bool invalid = false;
    bool operator==(const Outcome& o) const { return invalid == o.invalid && frames == o.frames; }
};

template <class NextChunk>
Outcome decode(std::span<const std::uint8_t> stream, bool accepted, NextChunk next) {
    Outcome out;
    tofu::detail::FrameDecoder dec(accepted);
    while (!stream.empty() && !out.invalid) {
        const std::size_t n = std::min(next(), stream.size());
        std::span<const std::uint8_t> in = stream.first(n);
        stream = stream.subspan(n);
        bool more = false;
        while (!more && !out.invalid) {
            switch (dec.feed(in)) {
                case tofu::detail::FrameDecoder::Step::more:
                    more = true;
                    break;
                case tofu::detail::FrameDecoder::Step::invalid:
                    out.invalid = true;
                    break;
                case tofu::detail::FrameDecoder::Step::need_message:
                    dec.attach(tofu::Message::create().release());
                    break;
                case tofu::detail::FrameDecoder::Step::frame: {
                    tofu::MessagePtr m(dec.take());
                    if (m->thdrs.buffer.size() != m->bhdr.thl || m->body.size() != m->bhdr.bl) {
                        __builtin_trap();
                    }
                    out.frames.push_back(Frame{m->bhdr,
                                               {m->thdrs.buffer.data(), m->thdrs.buffer.data() + m->bhdr.thl},
                                               {m->body.data(), m->body.data() + m->bhdr.bl}});
                    break;
                }
            }
        }
        if (more && !in.empty()) {
            __builtin_trap();  // "more" means every byte was consumed
        }
    }
    tofu::MessagePtr rest(dec.abandon());
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) {
        return 0;
    }
    const bool accepted = (data[0] & 1) != 0;
    std::uint32_t seed = data[0] | 1u;
    const std::span<const std::uint8_t> stream(data + 1, size - 1);
    const Outcome whole = decode(stream, accepted, [] { return SIZE_MAX; });
    const Outcome pieces = decode(stream, accepted, [&seed] {
        seed = seed * 1103515245u + 12345u;
        return std::size_t{1} + (seed >> 16) % 23;
    });
    if (!(whole == pieces)) {
        __builtin_trap();
    }
    return 0;
}
