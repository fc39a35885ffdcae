// The message model: the original's message_tests, golden wire vectors, check_and_prepare, text headers.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <string>

#include "tofu/format.hpp"
#include "tofu/message.hpp"

using namespace tofu;

namespace {

using Bytes = BinaryHeader::Bytes;

BinaryHeader header(ChannelNumber cn, MessageType t, MessageRole r, MessageID id, std::uint16_t thl,
                    std::uint16_t bl) {
    BinaryHeader h;
    h.channel_number = cn;
    h.proto.mtype = t;
    h.proto.role = r;
    h.message_id = id;
    h.thl = thl;
    h.bl = bl;
    return h;
}

AmpeStatus refusal(Message& m) {
    try {
        (void)m.check_and_prepare();
    } catch (const AmpeError& e) {
        REQUIRE(m.bhdr.status == status_to_raw(e.status()));
        return e.status();
    }
    return AmpeStatus::success;
}

}  // namespace

TEST_CASE("message: sequential message id", "[message]") {
    const MessageID mid = Message::next_mid();
    REQUIRE(Message::next_mid() == mid + 1);
}

TEST_CASE("message: BinaryHeader marshalling and demarshalling", "[message]") {
    BinaryHeader h =
        header(0x1234, MessageType::hello, MessageRole::request, 0xAABBCCDDEEFF0011ULL, 0x5678, 0x9ABC);
    h.status = 0xFF;
    const Bytes b = h.toBytes();
    BinaryHeader back;
    back.fromBytes(b);
    REQUIRE(back == h);
}

TEST_CASE("message: golden header vectors", "[message][wire]") {
    SECTION("AppRequest") {
        const BinaryHeader h =
            header(0x1234, MessageType::regular, MessageRole::request, 0x0102030405060708ULL, 3, 5);
        const Bytes expected = {0x12, 0x34, 0x04, 0x00, 0x01, 0x02, 0x03, 0x04,
                                0x05, 0x06, 0x07, 0x08, 0x00, 0x03, 0x00, 0x05};
        REQUIRE(h.toBytes() == expected);
        REQUIRE(BinaryHeader::from(expected) == h);
    }
    SECTION("HelloRequest") {
        const BinaryHeader h = header(0xBEEF, MessageType::hello, MessageRole::request, 42, 0x0021, 0);
        const Bytes expected = {0xBE, 0xEF, 0x06, 0x00, 0, 0, 0, 0, 0, 0, 0, 42, 0x00, 0x21, 0x00, 0x00};
        REQUIRE(h.toBytes() == expected);
        REQUIRE(BinaryHeader::from(expected) == h);
    }
    SECTION("engine ByeSignal with oob and a status") {
        BinaryHeader h =
            header(0x0001, MessageType::bye, MessageRole::signal, 0xFFFFFFFFFFFFFFFFULL, 0, 0x0100);
        h.proto.origin = OriginFlag::engine;
        h.proto.oob = Oob::on;
        h.status = status_to_raw(AmpeStatus::channel_closed);
        // 3 | 3<<2 | 1<<4 | 1<<6 = 0x5F; channel_closed = 23 = 0x17
        const Bytes expected = {0x00, 0x01, 0x5F, 0x17, 0xFF, 0xFF, 0xFF, 0xFF,
                                0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x01, 0x00};
        REQUIRE(h.toBytes() == expected);
        REQUIRE(BinaryHeader::from(expected) == h);
    }
    SECTION("regular signal with more") {
        BinaryHeader h =
            header(0xFFFE, MessageType::regular, MessageRole::signal, 0x8000000000000001ULL, 0xFFFF, 0xFFFF);
        h.proto.more = MoreMessagesFlag::more;
        const Bytes expected = {0xFF, 0xFE, 0x2C, 0x00, 0x80, 0, 0, 0, 0, 0, 0, 0x01, 0xFF, 0xFF, 0xFF, 0xFF};
        REQUIRE(h.toBytes() == expected);
        REQUIRE(BinaryHeader::from(expected) == h);
    }
    SECTION("internal bit") {
        ProtoFields p;
        p.internal = 1;
        REQUIRE(p.pack() == 0x80);
        REQUIRE(ProtoFields::unpack(0x80).internal == 1);
        for (unsigned v = 0; v < 256; ++v) {
            REQUIRE(ProtoFields::unpack(static_cast<std::uint8_t>(v)).pack() == v);
        }
    }
}

TEST_CASE("message: TextHeaderIterator no CRLF", "[message][headers]") {
    TextHeaderIterator it("a: b");
    const std::optional<TextHeader> h = it.next();
    REQUIRE(h);
    REQUIRE(h->name == "a");
    REQUIRE(h->value == "b");
    REQUIRE_FALSE(it.next());
}

TEST_CASE("message: TextHeaderIterator next", "[message][headers]") {
    TextHeaderIterator it("a: b\r\nc:  \r\nd:e\r\n\r\nf: g\r\n\r\n");
    const std::pair<std::string_view, std::string_view> expected[] = {
        {"a", "b"}, {"c", ""}, {"d", "e"}, {"f", "g"}};
    for (const auto& [name, value] : expected) {
        const std::optional<TextHeader> h = it.next();
        REQUIRE(h);
        REQUIRE(h->name == name);
        REQUIRE(h->value == value);
    }
    REQUIRE_FALSE(it.next());

    TextHeaderIterator stop(": ss\r\n\r\n");
    REQUIRE_FALSE(stop.next());

    TextHeaderIterator stop2("a:b\r\n\r\n: ss\r\n\r\n");
    REQUIRE(stop2.next()->value == "b");
    REQUIRE_FALSE(stop2.next());

    TextHeaderIterator colon("url:\t tcp://x:1 \t\r\nk:v");
    const std::optional<TextHeader> u = colon.next();
    REQUIRE(u->name == "url");
    REQUIRE(u->value == "tcp://x:1");  // a colon inside a value belongs to the value
    REQUIRE(colon.next()->name == "k");
    REQUIRE_FALSE(colon.next());
    colon.rewind();
    REQUIRE(colon.next()->name == "url");
}

TEST_CASE("message: TextHeaderIterator empty", "[message][headers]") {
    TextHeaderIterator it;
    REQUIRE_FALSE(it.next());
    TextHeaderIterator crlfs("\r\n\r\n\r\n");
    REQUIRE_FALSE(crlfs.next());
}

TEST_CASE("message: TextHeaders append, find and injection", "[message][headers]") {
    TextHeaders th;
    th.append("  name\t", "value");
    th.append("x", "a:b");
    REQUIRE(th.view() == "name:value\r\nx:a:b\r\n");
    REQUIRE(th.find("name") == std::optional<std::string_view>("value"));
    REQUIRE(th.find("x") == std::optional<std::string_view>("a:b"));
    REQUIRE_FALSE(th.find("nope"));

    auto rejects = [&th](std::string_view n, std::string_view v) {
        const std::string before(th.view());
        try {
            th.append(n, v);
            FAIL("accepted " << n << " / " << v);
        } catch (const AmpeError& e) {
            REQUIRE(e.status() == AmpeStatus::invalid_message);
        }
        REQUIRE(th.view() == before);  // nothing half-written
    };
    rejects("", "v");
    rejects(" \t", "v");
    rejects("n", "");
    rejects("a:b", "v");
    rejects("a\rb", "v");
    rejects("n", "v\r\n~connect_to:tcp|evil|1");
    rejects("n", "line\nbreak");

    TextHeaders copy;
    TextHeaderIterator it = th.hiter();
    copy.appendSafe(it);
    REQUIRE(copy.view() == th.view());
    copy.appendNotSafe("raw\r\n");
    REQUIRE(copy.view().ends_with("raw\r\n"));
    copy.reset();
    REQUIRE(copy.view().empty());
}

TEST_CASE("message: check_and_prepare failures in the original's order", "[message]") {
    MessagePtr m = Message::create();

    SECTION("origin must be application") {
        m->bhdr.proto.origin = OriginFlag::engine;
        m->bhdr.proto.role = MessageRole::response;  // also bad, but origin is checked first
        REQUIRE(refusal(*m) == AmpeStatus::not_allowed);
    }
    SECTION("a response needs an id") {
        m->bhdr.proto.role = MessageRole::response;
        m->bhdr.channel_number = 5;
        REQUIRE(refusal(*m) == AmpeStatus::invalid_message_id);
    }
    SECTION("more only on regular") {
        m->bhdr.proto.mtype = MessageType::bye;
        m->bhdr.proto.role = MessageRole::request;
        m->bhdr.proto.more = MoreMessagesFlag::more;
        m->bhdr.channel_number = 5;
        REQUIRE(refusal(*m) == AmpeStatus::invalid_more_usage);
    }
    SECTION("role invalid") {
        m->bhdr.channel_number = 5;
        REQUIRE(refusal(*m) == AmpeStatus::invalid_message_mode);
    }
    SECTION("welcome response") {
        m->bhdr.proto.mtype = MessageType::welcome;
        m->bhdr.proto.role = MessageRole::response;
        m->bhdr.message_id = 1;
        REQUIRE(refusal(*m) == AmpeStatus::not_allowed);
    }
    SECTION("welcome and hello signals") {
        m->bhdr.proto.mtype = MessageType::welcome;
        m->bhdr.proto.role = MessageRole::signal;
        REQUIRE(refusal(*m) == AmpeStatus::invalid_message_mode);
        m->bhdr.proto.mtype = MessageType::hello;
        REQUIRE(refusal(*m) == AmpeStatus::invalid_message_mode);
    }
    SECTION("channel 0 only for Welcome/Hello requests") {
        m->bhdr.proto.role = MessageRole::request;
        REQUIRE(refusal(*m) == AmpeStatus::invalid_channel_number);
    }
    SECTION("Welcome/Hello need headers") {
        m->bhdr.proto.mtype = MessageType::hello;
        m->bhdr.proto.role = MessageRole::request;
        REQUIRE(refusal(*m) == AmpeStatus::wrong_configuration);
    }
    SECTION("headers too long") {
        m->bhdr.proto.role = MessageRole::signal;
        m->bhdr.channel_number = 5;
        m->thdrs.appendNotSafe(std::string(70000, 'h'));
        REQUIRE(refusal(*m) == AmpeStatus::invalid_headers_len);
    }
    SECTION("body too long") {
        m->bhdr.proto.role = MessageRole::signal;
        m->bhdr.channel_number = 5;
        m->body.resize(65536);
        REQUIRE(refusal(*m) == AmpeStatus::invalid_body_len);
        m->body.resize(65535);
        REQUIRE(refusal(*m) == AmpeStatus::success);
    }
    SECTION("success fills lengths, status and id") {
        m->bhdr.proto.role = MessageRole::request;
        m->bhdr.channel_number = 5;
        m->bhdr.status = 99;
        m->thdrs.append("k", "v");
        m->body.assign(std::string_view("hello"));
        ValidCombination vc{};
        REQUIRE(m->check_and_prepare(vc) == AmpeStatus::success);
        REQUIRE(vc == ValidCombination::AppRequest);
        REQUIRE(m->bhdr.status == 0);
        REQUIRE(m->bhdr.thl == 5);
        REQUIRE(m->bhdr.bl == 5);
        REQUIRE(m->bhdr.message_id != 0);
        const MessageID id = m->bhdr.message_id;
        REQUIRE(m->check_and_prepare() == ValidCombination::AppRequest);
        REQUIRE(m->bhdr.message_id == id);  // kept once set
    }
}

TEST_CASE("message: valid combinations", "[message]") {
    REQUIRE(toValidCombination(MessageType::welcome, MessageRole::request) ==
            ValidCombination::WelcomeRequest);
    REQUIRE(toValidCombination(MessageType::hello, MessageRole::response) == ValidCombination::HelloResponse);
    REQUIRE(toValidCombination(MessageType::bye, MessageRole::signal) == ValidCombination::ByeSignal);
    REQUIRE(toValidCombination(MessageType::regular, MessageRole::signal) == ValidCombination::AppSignal);
    REQUIRE_FALSE(toValidCombination(MessageType::welcome, MessageRole::response));
    REQUIRE_FALSE(toValidCombination(MessageType::hello, MessageRole::signal));
    REQUIRE_FALSE(toValidCombination(MessageType::regular, MessageRole::invalid));
}

TEST_CASE("message: clone, reset, set and setNotSafe", "[message]") {
    MessagePtr m = Message::create();
    int anchor = 0;
    m->bhdr = header(7, MessageType::regular, MessageRole::signal, 9, 0, 0);
    m->thdrs.append("a", "b");
    m->body.assign(std::string_view("body"));
    m->user = &anchor;
    MessagePtr c = m->clone();
    REQUIRE(c.get() != m.get());
    REQUIRE(c->bhdr == m->bhdr);
    REQUIRE(c->thdrs.view() == m->thdrs.view());
    REQUIRE(c->body.view() == "body");
    REQUIRE(c->user == nullptr);  // as the original: the user pointer is not copied
    REQUIRE(m->user == &anchor);
    REQUIRE(c->body.data() != m->body.data());

    const std::size_t cap = m->body.capacity();
    m->reset();
    REQUIRE(m->bhdr == BinaryHeader{});
    REQUIRE(m->actual_body_len() == 0);
    REQUIRE(m->actual_headers_len() == 0);
    REQUIRE(m->user == nullptr);
    REQUIRE(m->body.capacity() == cap);

    TextHeaders th;
    th.append("k", "v");
    const std::string_view data = "xyz";
    const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(data.data()),
                                              data.size());
    REQUIRE(m->set(header(3, MessageType::regular, MessageRole::request, 0, 0, 0), &th, bytes) ==
            ValidCombination::AppRequest);
    REQUIRE(m->bhdr.thl == 5);
    REQUIRE(m->bhdr.bl == 3);
    REQUIRE_THROWS_AS(m->set(header(0, MessageType::regular, MessageRole::request, 0, 0, 0), &th, bytes),
                      AmpeError);

    m->setNotSafe(header(0, MessageType::regular, MessageRole::invalid, 0, 0, 0), "anything\r\n", bytes);
    REQUIRE(m->thdrs.view() == "anything\r\n");
    REQUIRE(m->body.view() == "xyz");
}

TEST_CASE("message: struct pointer to message and back", "[message]") {
    struct MyStruct {
        std::uint32_t x;
        std::uint32_t y;
    } s{100, 200};
    MessagePtr m = Message::create();
    REQUIRE(m->bodyToPtr<MyStruct>() == nullptr);
    (void)m->ptrToBody(&s);
    MyStruct* back = m->bodyToPtr<MyStruct>();
    REQUIRE(back == &s);
    REQUIRE(back->y == 200);

    std::array<std::uint8_t, 16> dest{};
    const std::span<std::uint8_t> slice = ptrToSlice(&s, dest);
    REQUIRE(slice.size() == sizeof(void*));
    REQUIRE(sliceToPtr<MyStruct>(slice) == &s);
    std::array<std::uint8_t, 2> tiny{};
    REQUIRE(ptrToSlice(&s, tiny).empty());
    REQUIRE(sliceToPtr<MyStruct>(tiny) == nullptr);
}

namespace {
struct MyStruct {
    std::uint32_t a;
    std::uint32_t b;
};
}  // namespace

// The original's three struct/slice tests.
TEST_CASE("message: structToSlice and structFromSlice", "[message]") {
    const MyStruct original{1, 2};
    std::array<std::uint8_t, sizeof(MyStruct)> buffer{};
    const std::span<std::uint8_t> filled = structToSlice(original, buffer);
    REQUIRE(filled.size() == sizeof(MyStruct));
    MyStruct restored{0, 0};
    REQUIRE(structFromSlice(filled, restored));
    REQUIRE(restored.a == 1);
    REQUIRE(restored.b == 2);
}

TEST_CASE("message: structToSlice with too small destination", "[message]") {
    const MyStruct original{1, 2};
    std::array<std::uint8_t, sizeof(MyStruct) - 1> small{};
    REQUIRE(structToSlice(original, small).empty());
    REQUIRE(small == std::array<std::uint8_t, sizeof(MyStruct) - 1>{});  // untouched
}

TEST_CASE("message: structFromSlice with invalid size", "[message]") {
    const std::array<std::uint8_t, 4> invalid{1, 2, 3, 4};
    MyStruct restored{0, 0};
    REQUIRE_FALSE(structFromSlice(invalid, restored));
    REQUIRE(restored.a == 0);
    std::array<std::uint8_t, sizeof(MyStruct) + 1> longer{};
    REQUIRE_FALSE(structFromSlice(longer, restored));  // exactly sizeof(T), not at least
}

TEST_CASE("message: valueToSlice and sliceToValue", "[message]") {
    std::array<std::uint8_t, 8> dest{};
    const std::span<std::uint8_t> u = valueToSlice(std::uint32_t{0xDEADBEEF}, dest);
    REQUIRE(u.size() == 4);
    REQUIRE(sliceToValue<std::uint32_t>(u) == 0xDEADBEEF);
    REQUIRE(sliceToValue<std::uint32_t>(dest) == 0xDEADBEEF);  // a longer slice: its first bytes

    const std::span<std::uint8_t> f = valueToSlice(3.25f, dest);
    REQUIRE(sliceToValue<float>(f) == 3.25f);
    REQUIRE(valueToSlice(std::int64_t{-5}, dest).size() == 8);
    REQUIRE(sliceToValue<std::int64_t>(dest) == -5);
    REQUIRE(valueToSlice(MessageType::bye, dest).size() == 1);
    REQUIRE(sliceToValue<MessageType>(dest) == MessageType::bye);

    std::array<std::uint8_t, 3> small{};
    REQUIRE(valueToSlice(std::uint32_t{7}, small).empty());
    try {
        (void)sliceToValue<std::int64_t>(std::span<const std::uint8_t>(dest).first(7));
        FAIL("a too short slice was read");
    } catch (const AmpeError& e) {
        REQUIRE(e.status() == AmpeStatus::invalid_body_len);
    }
}

TEST_CASE("message: a trivially copyable value in the body and back", "[message]") {
    struct Point {
        std::int32_t x;
        std::int32_t y;
        double weight;
    };
    static_assert(TriviallyCopyable<Point>);
    static_assert(!TriviallyCopyable<std::string>);
    MessagePtr m = Message::create();
    m->body.assign(std::string_view("previous content"));
    const std::span<std::uint8_t> b = m->structToBody(Point{-1, 2, 0.5});
    REQUIRE(b.size() == sizeof(Point));
    REQUIRE(m->actual_body_len() == sizeof(Point));
    const Point p = m->bodyToStruct<Point>();
    REQUIRE(p.x == -1);
    REQUIRE(p.y == 2);
    REQUIRE(p.weight == 0.5);

    // a size mismatch is an error, never a partial read
    auto status = [&](auto read) {
        try {
            read();
        } catch (const AmpeError& e) {
            return e.status();
        }
        return AmpeStatus::success;
    };
    REQUIRE(status([&] { (void)m->bodyToStruct<std::uint64_t>(); }) == AmpeStatus::invalid_body_len);
    m->body.resize(sizeof(Point) + 1);
    REQUIRE(status([&] { (void)m->bodyToStruct<Point>(); }) == AmpeStatus::invalid_body_len);
    m->body.reset();
    REQUIRE(status([&] { (void)m->bodyToStruct<Point>(); }) == AmpeStatus::invalid_body_len);

    // a value that is not default-constructible
    struct NoDefault {
        explicit NoDefault(int v) : v(v) {}
        int v;
    };
    (void)m->structToBody(NoDefault(42));
    REQUIRE(m->bodyToStruct<NoDefault>().v == 42);
}

TEST_CASE("message: copyBh2Body and bhVal", "[message]") {
    MessagePtr m = Message::create();
    REQUIRE_FALSE(m->bhVal());  // empty body
    m->bhdr = header(0x1234, MessageType::hello, MessageRole::request, 0xAABBCCDDEEFF0011, 7, 9);
    m->bhdr.status = status_to_raw(AmpeStatus::pool_empty);
    m->body.assign(std::string_view("replaced"));
    m->copyBh2Body();
    REQUIRE(m->actual_body_len() == BinaryHeader::BHSIZE);
    const Bytes wire = m->bhdr.toBytes();
    REQUIRE(std::equal(wire.begin(), wire.end(), m->body.data()));  // the wire form: portable
    const std::optional<BinaryHeader> back = m->bhVal();
    REQUIRE(back);
    REQUIRE(*back == m->bhdr);

    // the header travels as the body: check_and_prepare then sets bl to 16
    m->bhdr.channel_number = 5;
    m->bhdr.proto.role = MessageRole::signal;
    m->bhdr.proto.mtype = MessageType::regular;
    REQUIRE(m->check_and_prepare() == ValidCombination::AppSignal);
    REQUIRE(m->bhdr.bl == BinaryHeader::BHSIZE);
    REQUIRE(m->bhVal()->message_id == 0xAABBCCDDEEFF0011);  // the header as it was when copied

    m->body.resize(BinaryHeader::BHSIZE + 1);
    REQUIRE_FALSE(m->bhVal());
    m->body.resize(BinaryHeader::BHSIZE - 1);
    REQUIRE_FALSE(m->bhVal());
}

TEST_CASE("message: formatting", "[message]") {
    const BinaryHeader h = header(0x1234, MessageType::regular, MessageRole::request, 5, 3, 5);
    REQUIRE(fmt::format("{}", h) == "ch=4660 regular/request/application id=5 thl=3 bl=5 status=success");
    REQUIRE(fmt::format("{}", AmpeStatus::channel_closed) == "channel_closed");
    REQUIRE(fmt::format("{}", ValidCombination::ByeSignal) == "ByeSignal");
}

TEST_CASE("message: parts fed from the same message (self-aliasing) copy correctly", "[message]") {
    MessagePtr m = Message::create();
    m->body.assign(std::string_view("0123456789"));
    for (int i = 0; i < 6; ++i) {
        m->body.append(m->body.view());  // grows past its capacity while reading itself
    }
    REQUIRE(m->body.size() == 640);
    CHECK(m->body.view().substr(630) == "0123456789");

    m->thdrs.append("Job-ID", "12345");
    for (int i = 0; i < 8; ++i) {
        const std::optional<std::string_view> v = m->thdrs.find("Job-ID");
        REQUIRE(v);
        m->thdrs.append("Copy" + std::to_string(i), *v);  // a value of these very headers
    }
    CHECK(m->thdrs.find("Copy7") == std::optional<std::string_view>("12345"));
    TextHeaderIterator it = m->thdrs.hiter();
    const std::size_t before = m->thdrs.buffer.size();
    m->thdrs.appendSafe(it);  // iterates what it appends to
    CHECK(m->thdrs.buffer.size() == 2 * before);

    m->bhdr.proto.role = MessageRole::signal;
    m->bhdr.channel_number = 5;
    const std::string hdrs(m->thdrs.view());
    (void)m->set(m->bhdr, &m->thdrs, m->body.body().subspan(2, 8));  // its own headers and part of its body
    CHECK(m->thdrs.view() == hdrs);
    CHECK(m->body.view() == "23456789");
    m->setNotSafe(m->bhdr, m->thdrs.view().substr(0, 14), m->body.body().subspan(1));
    CHECK(m->thdrs.view() == "Job-ID:12345\r\n");
    CHECK(m->body.view() == "3456789");
}

TEST_CASE("message: the internal bit is refused before it reaches the wire", "[message]") {
    MessagePtr m = Message::create();
    m->bhdr.proto.role = MessageRole::signal;
    m->bhdr.channel_number = 3;
    m->bhdr.proto.internal = 1;
    try {
        (void)m->check_and_prepare();
        FAIL("a message with the internal bit passed check_and_prepare");
    } catch (const AmpeError& e) {
        CHECK(e.status() == AmpeStatus::not_allowed);
        CHECK_THAT(std::string(e.what()), Catch::Contains("internal"));
    }
}
