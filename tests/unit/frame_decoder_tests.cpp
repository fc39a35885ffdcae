// The frame decoder on its own: split points, the validation rules, empty and maximum frames.
#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include "frame_decoder.hpp"

using namespace tofu;
using detail::FrameDecoder;

namespace {

std::vector<std::uint8_t> frame(MessageType t, MessageRole r, MessageID id, std::size_t thl, std::size_t bl,
                                std::uint8_t fill = 0x5a) {
    BinaryHeader bh{};
    bh.channel_number = 7;
    bh.proto.mtype = t;
    bh.proto.role = r;
    bh.message_id = id;
    bh.thl = static_cast<std::uint16_t>(thl);
    bh.bl = static_cast<std::uint16_t>(bl);
    const BinaryHeader::Bytes b = bh.toBytes();
    std::vector<std::uint8_t> out(b.begin(), b.end());
    for (std::size_t i = 0; i < thl + bl; ++i) {
        out.push_back(static_cast<std::uint8_t>(fill + i));
    }
    return out;
}

void append(std::vector<std::uint8_t>& to, const std::vector<std::uint8_t>& from) {
    to.insert(to.end(), from.begin(), from.end());
}

struct Decoded {
    std::vector<MessagePtr> msgs;
    bool invalid = false;
};

// Feeds stream in pieces of at most `piece` bytes.
Decoded decode(FrameDecoder& dec, std::span<const std::uint8_t> stream, std::size_t piece) {
    Decoded out;
    while (!stream.empty() && !out.invalid) {
        std::span<const std::uint8_t> in = stream.first(std::min(piece, stream.size()));
        stream = stream.subspan(in.size());
        for (bool more = false; !more && !out.invalid;) {
            switch (dec.feed(in)) {
                case FrameDecoder::Step::more:
                    REQUIRE(in.empty());
                    more = true;
                    break;
                case FrameDecoder::Step::invalid:
                    out.invalid = true;
                    break;
                case FrameDecoder::Step::need_message:
                    dec.attach(Message::create().release());
                    break;
                case FrameDecoder::Step::frame:
                    out.msgs.emplace_back(dec.take());
                    break;
            }
        }
    }
    return out;
}

}  // namespace

TEST_CASE("frame decoder: the same frames whatever the split", "[decoder]") {
    std::vector<std::uint8_t> stream = frame(MessageType::hello, MessageRole::request, 1, 12, 0);
    append(stream, frame(MessageType::regular, MessageRole::request, 2, 0, 0));  // empty frame
    append(stream, frame(MessageType::regular, MessageRole::response, 2, 3, 300, 0x10));
    append(stream, frame(MessageType::regular, MessageRole::signal, 9, 0, 5));
    for (std::size_t piece = 1; piece <= stream.size(); piece = piece < 20 ? piece + 1 : piece * 2) {
        FrameDecoder dec(true);
        const Decoded d = decode(dec, stream, piece);
        INFO("piece " << piece);
        REQUIRE_FALSE(d.invalid);
        REQUIRE(d.msgs.size() == 4);
        CHECK(d.msgs[0]->bhdr.proto.mtype == MessageType::hello);
        CHECK(d.msgs[0]->thdrs.buffer.size() == 12);
        CHECK(d.msgs[1]->body.size() == 0);
        CHECK(d.msgs[2]->bhdr.message_id == 2);
        REQUIRE(d.msgs[2]->body.size() == 300);
        CHECK(d.msgs[2]->body.data()[0] == 0x13);  // after 3 text-header bytes
        CHECK(d.msgs[3]->bhdr.proto.role == MessageRole::signal);
        CHECK_FALSE(dec.firstFrame());
        MessagePtr none(dec.abandon());
        CHECK(none == nullptr);
    }
}

TEST_CASE("frame decoder: the rules for the first and later frames", "[decoder]") {
    SECTION("server: the first frame must be a HelloRequest") {
        FrameDecoder dec(true);
        CHECK(decode(dec, frame(MessageType::regular, MessageRole::request, 1, 0, 0), 64).invalid);
    }
    SECTION("server: a second HelloRequest is refused") {
        std::vector<std::uint8_t> s = frame(MessageType::hello, MessageRole::request, 1, 0, 0);
        append(s, frame(MessageType::hello, MessageRole::request, 2, 0, 0));
        FrameDecoder dec(true);
        const Decoded d = decode(dec, s, 64);
        CHECK(d.msgs.size() == 1);
        CHECK(d.invalid);
    }
    SECTION("client: the first frame answers the Hello, or is a bye") {
        FrameDecoder a(false);
        CHECK(decode(a, frame(MessageType::regular, MessageRole::signal, 3, 0, 0), 64).invalid);
        FrameDecoder b(false);
        CHECK_FALSE(decode(b, frame(MessageType::bye, MessageRole::request, 3, 0, 0), 64).invalid);
        FrameDecoder c(false);
        CHECK(decode(c, frame(MessageType::hello, MessageRole::request, 3, 0, 0), 64).invalid);
    }
    SECTION("welcome never travels; responses carry an id; engine origin, internal and more are checked") {
        BinaryHeader bh{};
        bh.proto.mtype = MessageType::regular;
        bh.proto.role = MessageRole::request;
        bh.message_id = 5;
        CHECK(detail::validIncoming(bh, true, false));
        BinaryHeader w = bh;
        w.proto.mtype = MessageType::welcome;
        CHECK_FALSE(detail::validIncoming(w, true, false));
        BinaryHeader r = bh;
        r.proto.role = MessageRole::response;
        r.message_id = 0;
        CHECK_FALSE(detail::validIncoming(r, false, false));
        BinaryHeader e = bh;
        e.proto.origin = OriginFlag::engine;
        CHECK_FALSE(detail::validIncoming(e, true, false));
        BinaryHeader i = bh;
        i.proto.internal = 1;
        CHECK_FALSE(detail::validIncoming(i, true, false));
        BinaryHeader m = bh;
        m.proto.more = MoreMessagesFlag::more;
        CHECK(detail::validIncoming(m, true, false));
        m.proto.mtype = MessageType::bye;
        CHECK_FALSE(detail::validIncoming(m, true, false));
        BinaryHeader st = bh;
        st.status = 200;
        CHECK_FALSE(detail::validIncoming(st, true, false));
    }
}

TEST_CASE("frame decoder: maximum lengths, and a frame cut short", "[decoder]") {
    std::vector<std::uint8_t> s = frame(MessageType::hello, MessageRole::request, 1, 65535, 65535);
    FrameDecoder dec(true);
    Decoded d = decode(dec, std::span<const std::uint8_t>(s).first(s.size() - 1), 65536);
    CHECK(d.msgs.empty());
    MessagePtr partial(dec.abandon());  // what the engine returns to the pool on close
    REQUIRE(partial != nullptr);
    CHECK(partial->body.size() == 65535);
    FrameDecoder whole(true);
    d = decode(whole, s, 4096);
    REQUIRE(d.msgs.size() == 1);
    CHECK(d.msgs[0]->thdrs.buffer.size() == 65535);
    CHECK(d.msgs[0]->body.size() == 65535);
}
