// tofu: the message model — binary header, text headers, body — and its ownership (MessagePtr).
#pragma once

#include "tofu/export.hpp"

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <memory_resource>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

#include "tofu/buffer.hpp"
#include "tofu/status.hpp"

namespace tofu {

/// A one-bit switch in the proto byte.
enum class Trigger : std::uint8_t { off = 0, on = 1 };

/// High-priority flag: an oob message goes to the head of its channel's send queue.
using Oob = Trigger;

/// What a message is for: application data (regular), listen (welcome), connect (hello) or close (bye).
enum class MessageType : std::uint8_t { regular = 0, welcome = 1, hello = 2, bye = 3 };

/// How a message takes part in a conversation: a request, its response, or a one-way signal.
enum class MessageRole : std::uint8_t { invalid = 0, request = 1, response = 2, signal = 3 };

/// Who produced a message: an application (a peer or your own code) or the engine itself.
enum class OriginFlag : std::uint8_t { application = 0, engine = 1 };

/// Whether more parts with the same message id follow (more) or this is the final or only one (last).
enum class MoreMessagesFlag : std::uint8_t { last = 0, more = 1 };

/// The proto byte: bits 0-1 type, 2-3 role, 4 origin, 5 more, 6 oob, 7 internal.
/// Packed and unpacked explicitly so the wire layout never depends on the compiler.
struct TOFU_API ProtoFields {
    /// Message type (bits 0-1).
    MessageType mtype = MessageType::regular;
    /// Message role (bits 2-3); invalid until set, so a fresh message cannot be sent by mistake.
    MessageRole role = MessageRole::invalid;
    /// Who produced the message (bit 4); look at it first when receiving.
    OriginFlag origin = OriginFlag::application;
    /// More parts follow (bit 5); regular messages only.
    MoreMessagesFlag more = MoreMessagesFlag::last;
    /// Send ahead of the channel's queued messages (bit 6).
    Oob oob = Oob::off;
    /// Reserved for the engine (bit 7), 0 or 1; a received header with it set is refused.
    std::uint8_t internal = 0;  // 0 or 1

    /// The fields as one proto byte.
    [[nodiscard]] constexpr std::uint8_t pack() const noexcept {
        return static_cast<std::uint8_t>(
            (static_cast<unsigned>(mtype) & 3u) | ((static_cast<unsigned>(role) & 3u) << 2) |
            ((static_cast<unsigned>(origin) & 1u) << 4) | ((static_cast<unsigned>(more) & 1u) << 5) |
            ((static_cast<unsigned>(oob) & 1u) << 6) | ((internal & 1u) << 7));
    }

    /// The fields of proto byte b.
    [[nodiscard]] static constexpr ProtoFields unpack(std::uint8_t b) noexcept {
        ProtoFields p;
        p.mtype = static_cast<MessageType>(b & 3u);
        p.role = static_cast<MessageRole>((b >> 2) & 3u);
        p.origin = static_cast<OriginFlag>((b >> 4) & 1u);
        p.more = static_cast<MoreMessagesFlag>((b >> 5) & 1u);
        p.oob = static_cast<Oob>((b >> 6) & 1u);
        p.internal = static_cast<std::uint8_t>((b >> 7) & 1u);
        return p;
    }

    /// True when every field is equal.
    constexpr bool operator==(const ProtoFields&) const noexcept = default;
};

/// Number of a channel, unique within its engine; assigned by the engine.
using ChannelNumber = std::uint16_t;
/// Correlation id of a message, chosen by the application (0: let the engine pick one).
using MessageID = std::uint64_t;

/// Channel 0: not yet assigned (WelcomeRequest / HelloRequest ask the engine for one).
inline constexpr ChannelNumber SpecialMinChannelNumber = 0;
/// Channel 0xFFFF: reserved for the engine's notifier, never given to a channel.
inline constexpr ChannelNumber SpecialMaxChannelNumber = 0xFFFF;

/// The 16-byte binary header. On the wire, big-endian: 0-1 channel, 2 proto, 3 status,
/// 4-11 message id, 12-13 text-headers length, 14-15 body length.
struct TOFU_API BinaryHeader {
    /// Size of the header on the wire, in bytes.
    static constexpr std::size_t BHSIZE = 16;
    /// The header in its wire form.
    using Bytes = std::array<std::uint8_t, BHSIZE>;

    /// The channel the message belongs to; 0 (SpecialMinChannelNumber) asks the engine for a new one.
    ChannelNumber channel_number = 0;
    /// Type, role, origin, more, oob and internal bits.
    ProtoFields proto{};
    /// An AmpeStatus as a raw byte (0: success); see raw_to_status().
    std::uint8_t status = 0;
    /// The application's correlation id, carried unchanged.
    MessageID message_id = 0;
    /// Text headers length; set by check_and_prepare, the engine's business.
    std::uint16_t thl = 0;
    /// Body length; set by check_and_prepare, the engine's business.
    std::uint16_t bl = 0;

    /// Resets every field to its default.
    constexpr void clean() noexcept { *this = BinaryHeader{}; }

    /// Writes the header in wire form (big-endian) into out.
    constexpr void toBytes(std::span<std::uint8_t, BHSIZE> out) const noexcept {
        out[0] = static_cast<std::uint8_t>(channel_number >> 8);
        out[1] = static_cast<std::uint8_t>(channel_number);
        out[2] = proto.pack();
        out[3] = status;
        for (int i = 0; i < 8; ++i) {
            out[4 + i] = static_cast<std::uint8_t>(message_id >> (56 - 8 * i));
        }
        out[12] = static_cast<std::uint8_t>(thl >> 8);
        out[13] = static_cast<std::uint8_t>(thl);
        out[14] = static_cast<std::uint8_t>(bl >> 8);
        out[15] = static_cast<std::uint8_t>(bl);
    }

    /// The header in wire form (big-endian).
    [[nodiscard]] constexpr Bytes toBytes() const noexcept {
        Bytes b{};
        toBytes(std::span<std::uint8_t, BHSIZE>(b));
        return b;
    }

    /// Reads every field from the wire form in in.
    constexpr void fromBytes(std::span<const std::uint8_t, BHSIZE> in) noexcept {
        channel_number = static_cast<ChannelNumber>((in[0] << 8) | in[1]);
        proto = ProtoFields::unpack(in[2]);
        status = in[3];
        message_id = 0;
        for (int i = 0; i < 8; ++i) {
            message_id = (message_id << 8) | in[4 + i];
        }
        thl = static_cast<std::uint16_t>((in[12] << 8) | in[13]);
        bl = static_cast<std::uint16_t>((in[14] << 8) | in[15]);
    }

    /// A header read from the wire form in in.
    [[nodiscard]] static constexpr BinaryHeader from(std::span<const std::uint8_t, BHSIZE> in) noexcept {
        BinaryHeader h;
        h.fromBytes(in);
        return h;
    }

    /// True when every field is equal.
    constexpr bool operator==(const BinaryHeader&) const noexcept = default;
};

/// One `name:value` record; views into the buffer it was read from.
struct TOFU_API TextHeader {
    /// The record's name.
    std::string_view name;
    /// The record's value (trimmed of spaces and tabs when read by TextHeaderIterator).
    std::string_view value;
};

/// Reads `name:value\r\n` records. Values are trimmed of spaces and tabs, empty records are skipped,
/// a last record may lack its CRLF, and iteration stops at a record with an empty name.
class TOFU_API TextHeaderIterator {
  public:
    /// An iterator over no records.
    TextHeaderIterator() = default;
    /// Iterates over the records in bytes, which must outlive the iterator.
    explicit TextHeaderIterator(std::string_view bytes) noexcept : bytes_(bytes) {}

    /// The next record, or nullopt at the end.
    [[nodiscard]] std::optional<TextHeader> next() noexcept;
    /// Starts again from the first record.
    void rewind() noexcept { index_ = 0; }

  private:
    std::string_view bytes_;
    std::size_t index_ = 0;
};

/// The text headers of a message: `name:value\r\n` records in one buffer.
class TOFU_API TextHeaders {
  public:
    static constexpr std::size_t tlen = 64;  ///< The original's initial capacity (a message reserves lazily).

    /// Empty text headers allocating from mr, initialCapacity bytes reserved.
    explicit TextHeaders(std::pmr::memory_resource* mr = std::pmr::get_default_resource(),
                         std::size_t initialCapacity = tlen)
        : buffer(mr, initialCapacity) {}

    /// Appends one record. The name is trimmed; an empty name or value, a name holding ':' or
    /// CR/LF, or a value holding CR/LF throws AmpeError(invalid_message) — no header injection.
    void append(std::string_view name, std::string_view value);
    /// Appends th, checked as by append().
    void appendTextHeader(const TextHeader& th) { append(th.name, th.value); }
    /// Appends every record the iterator yields, each checked as by append().
    void appendSafe(TextHeaderIterator& it);
    /// Appends raw bytes as they are, unchecked.
    void appendNotSafe(std::string_view textheaders) { buffer.append(textheaders); }

    /// Removes every record, keeping the capacity.
    void reset() noexcept { buffer.reset(); }
    /// An iterator over the records (valid while these headers are unchanged).
    [[nodiscard]] TextHeaderIterator hiter() const noexcept { return TextHeaderIterator(buffer.view()); }
    /// The value of the first record named exactly `name`.
    [[nodiscard]] std::optional<std::string_view> find(std::string_view name) const noexcept;
    /// The raw records as text.
    [[nodiscard]] std::string_view view() const noexcept { return buffer.view(); }

    /// The raw records, `name:value\r\n` each.
    Buffer buffer;
};

/// The type x role combinations an application may send.
enum class ValidCombination : std::uint8_t {
    WelcomeRequest = 0,
    HelloRequest = 1,
    HelloResponse = 2,
    ByeRequest = 3,
    ByeResponse = 4,
    ByeSignal = 5,
    AppRequest = 6,
    AppResponse = 7,
    AppSignal = 8,
};

/// The combination a header describes, or nullopt when the application may not send it.
[[nodiscard]] TOFU_API std::optional<ValidCombination> toValidCombination(MessageType mt,
                                                                          MessageRole role) noexcept;

/// A type whose bytes may be copied to a message body and back (std::is_trivially_copyable).
template <class T>
concept TriviallyCopyable = std::is_trivially_copyable_v<T>;

/// Copies the bytes of value into the front of dest. Returns the filled part of dest, or an empty
/// span when dest is smaller than sizeof(T) (dest is then left untouched).
template <TriviallyCopyable T>
std::span<std::uint8_t> structToSlice(const T& value, std::span<std::uint8_t> dest) noexcept {
    if (dest.size() < sizeof(T)) {
        return {};
    }
    std::memcpy(dest.data(), &value, sizeof(T));
    return dest.first(sizeof(T));
}

/// Copies src into dest when src holds exactly sizeof(T) bytes; false (dest untouched) otherwise.
template <TriviallyCopyable T>
[[nodiscard]] bool structFromSlice(std::span<const std::uint8_t> src, T& dest) noexcept {
    if (src.size() != sizeof(T)) {
        return false;
    }
    std::memcpy(&dest, src.data(), sizeof(T));
    return true;
}

/// A single value (arithmetic, enum or pointer), not an aggregate: what valueToSlice() takes.
template <class T>
concept ScalarValue = std::is_scalar_v<T>;

/// Copies the bytes of the scalar value (native byte order) into the front of dest. Returns the
/// filled part, or an empty span when dest is smaller than sizeof(T).
template <ScalarValue T>
std::span<std::uint8_t> valueToSlice(T value, std::span<std::uint8_t> dest) noexcept {
    return structToSlice(value, dest);
}

/// The scalar stored by valueToSlice() at the front of src (native byte order); pointers are read
/// with sliceToPtr() instead. Throws AmpeError(invalid_body_len) when src is shorter than sizeof(T).
template <ScalarValue T>
requires(!std::is_pointer_v<T>) [[nodiscard]] T sliceToValue(std::span<const std::uint8_t> src) {
    if (src.size() < sizeof(T)) {
        throw AmpeError(AmpeStatus::invalid_body_len, "sliceToValue: slice too small");
    }
    T value;
    std::memcpy(&value, src.data(), sizeof(T));
    return value;
}

/// Byte helpers kept from the original (debugging aids): a pointer's value to bytes and back.
template <class T>
std::span<std::uint8_t> ptrToSlice(T* ptr, std::span<std::uint8_t> dest) noexcept {
    const auto addr = reinterpret_cast<std::uintptr_t>(ptr);
    if (dest.size() < sizeof addr) {
        return {};
    }
    std::memcpy(dest.data(), &addr, sizeof addr);
    return dest.first(sizeof addr);
}

/// The pointer whose value ptrToSlice() wrote into src, or nullptr when src is too short.
template <class T>
[[nodiscard]] T* sliceToPtr(std::span<const std::uint8_t> src) noexcept {
    std::uintptr_t addr = 0;
    if (src.size() < sizeof addr) {
        return nullptr;
    }
    std::memcpy(&addr, src.data(), sizeof addr);
    return reinterpret_cast<T*>(addr);
}

class Message;

namespace detail {
class PoolCore;
struct MessageMark;
template <class T>
struct Links;
}  // namespace detail

/// Returns a message to its pool, or frees it when it has none or the pool is closed or full.
struct TOFU_API MessageDeleter {
    /// Gives msg back to its pool or frees it; does nothing for nullptr.
    void operator()(Message* msg) const noexcept;
};

/// Owning handle of a message. Destroying it gives the message back to its pool.
using MessagePtr = std::unique_ptr<Message, MessageDeleter>;

/// A message: binary header, text headers and body, plus intrusive links for the engine's queues.
class TOFU_API Message {
    struct Key {};

  public:
    static constexpr std::size_t blen =
        256;  ///< The original's initial body capacity (reserved lazily here).

    /// Use Message::create() or an engine's get().
    Message(Key, std::pmr::memory_resource* mr);
    Message(const Message&) = delete;
    Message& operator=(const Message&) = delete;
    ~Message() = default;

    /// A free-standing message (no pool) allocated from mr.
    [[nodiscard]] static MessagePtr create(std::pmr::memory_resource* mr = std::pmr::get_default_resource());

    /// A deep copy of header, text headers and body, returning to the same pool as this one.
    /// As in the original, neither the user pointer nor the engine context is copied (both are null
    /// in the copy): what `user` points to is the application's to share or not.
    [[nodiscard]] MessagePtr clone() const;

    /// Clears header, text headers, body, user and engine context; keeps capacities.
    void reset() noexcept;

    /// Sets the header, the text headers hdrs (each record checked) and the body data, then
    /// check_and_prepare().
    ValidCombination set(const BinaryHeader& bh, const TextHeaders* hdrs, std::span<const std::uint8_t> data);
    /// Sets the header, the raw text headers hdrs and the body data without any check.
    void setNotSafe(const BinaryHeader& bh, std::string_view hdrs, std::span<const std::uint8_t> data);

    /// Stores a pointer's value in the body (never send it to another process).
    template <class T>
    std::span<std::uint8_t> ptrToBody(T* ptr) {
        body.resize(sizeof(std::uintptr_t));
        return ptrToSlice(ptr, body.body());
    }

    /// The pointer stored by ptrToBody(), or nullptr when the body is too short.
    template <class T>
    [[nodiscard]] T* bodyToPtr() const noexcept {
        return sliceToPtr<T>(body.body());
    }

    /// Makes the body the bytes of value (its in-memory layout, padding included): a way to carry a
    /// plain struct between threads of one process or peers with the same layout. Returns the body.
    template <TriviallyCopyable T>
    std::span<std::uint8_t> structToBody(const T& value) {
        body.resize(sizeof(T));
        std::memcpy(body.data(), &value, sizeof(T));
        return body.body();
    }

    /// The value structToBody() stored. Throws AmpeError(invalid_body_len) unless the body holds
    /// exactly sizeof(T) bytes.
    template <TriviallyCopyable T>
    [[nodiscard]] T bodyToStruct() const {
        if (body.size() != sizeof(T)) {
            throw AmpeError(AmpeStatus::invalid_body_len,
                            "bodyToStruct: body size is not the size of the type");
        }
        std::array<std::uint8_t, sizeof(T)> raw;  // T need not be default-constructible
        std::memcpy(raw.data(), body.data(), sizeof(T));
        return std::bit_cast<T>(raw);
    }

    /// Debugging aid: replaces the body with this message's binary header (its 16-byte wire form), so
    /// the header travels to the peer as data and can be read back with bhVal().
    void copyBh2Body();

    /// Debugging aid: the binary header copyBh2Body() stored in the body, or nullopt when the body is
    /// not exactly BinaryHeader::BHSIZE bytes long.
    [[nodiscard]] std::optional<BinaryHeader> bhVal() const noexcept;

    /// Body size in bytes (bhdr.bl is only set by check_and_prepare()).
    [[nodiscard]] std::size_t actual_body_len() const noexcept { return body.size(); }
    /// Text headers size in bytes (bhdr.thl is only set by check_and_prepare()).
    [[nodiscard]] std::size_t actual_headers_len() const noexcept { return thdrs.buffer.size(); }

    /// Validates the message for sending and fills thl/bl, status (success) and a message id when 0.
    /// Throws AmpeError with the status it also writes into bhdr.status.
    ValidCombination check_and_prepare();
    /// The same without exceptions: returns the status (success or the failure).
    [[nodiscard]] AmpeStatus check_and_prepare(ValidCombination& vc) noexcept;

    /// Next value of the process-wide message id counter (starts at 1).
    [[nodiscard]] static MessageID next_mid() noexcept;

    /// The binary header: channel, proto, status, message id, lengths.
    BinaryHeader bhdr{};
    /// The text headers: `name:value` records.
    TextHeaders thdrs;
    /// The body: application bytes, never interpreted by tofu.
    Buffer body;

    /// The application's own pointer; the engine never touches it (the original's `<void*>` field).
    void* user = nullptr;

    /// The engine's close notice: the channel named by bhdr.channel_number is gone (regular, signal,
    /// origin engine, status channel_closed, the id of the Welcome/Hello that opened it). Only the
    /// engine makes it; a signal of the application's given back with channel_closed has the same
    /// header but is not a notice (see isReturned()).
    [[nodiscard]] bool isCloseNotice() const noexcept {
        return mark_ == Mark::engineSignal && bhdr.status == status_to_raw(AmpeStatus::channel_closed);
    }
    /// A signal the engine made itself: the close notice, pool_empty, or receiver_update (from
    /// updateReceiver() without a message).
    [[nodiscard]] bool isEngineSignal() const noexcept { return mark_ == Mark::engineSignal; }
    /// One of the application's own messages given back unsent (origin engine; bhdr.status says why:
    /// channel_closed, send_failed, not_allowed ...), including a Welcome/Hello the engine answered
    /// with a failure. Never true for a message that came from a peer.
    [[nodiscard]] bool isReturned() const noexcept { return mark_ == Mark::returned; }

    // ---- What the message is (short forms of the bhdr fields) ----

    /// The status byte as an AmpeStatus (raw_to_status(bhdr.status)).
    [[nodiscard]] AmpeStatus status() const noexcept { return raw_to_status(bhdr.status); }
    /// True when the status is success.
    [[nodiscard]] bool ok() const noexcept { return bhdr.status == status_to_raw(AmpeStatus::success); }
    /// True when the engine produced or gave back this message (bhdr.proto.origin is engine): a close
    /// notice, pool_empty, receiver_update, or one of the application's messages returned unsent.
    [[nodiscard]] bool fromEngine() const noexcept { return bhdr.proto.origin == OriginFlag::engine; }
    /// The channel the message belongs to (bhdr.channel_number).
    [[nodiscard]] ChannelNumber channel() const noexcept { return bhdr.channel_number; }
    /// The correlation id (bhdr.message_id).
    [[nodiscard]] MessageID id() const noexcept { return bhdr.message_id; }
    /// The message type (bhdr.proto.mtype).
    [[nodiscard]] MessageType type() const noexcept { return bhdr.proto.mtype; }
    /// The message role (bhdr.proto.role).
    [[nodiscard]] MessageRole role() const noexcept { return bhdr.proto.role; }
    /// True when type and role are the combination vc (e.g. `msg->is(ValidCombination::AppRequest)`).
    /// Type and role only: the engine's own signals (close notice, pool_empty, receiver_update) are regular
    /// signals too, and a returned message keeps its type and role — check fromEngine() first when it
    /// matters.
    [[nodiscard]] bool is(ValidCombination vc) const noexcept {
        return toValidCombination(bhdr.proto.mtype, bhdr.proto.role) == vc;
    }
    /// The body as text (a view into the message, valid while the body is unchanged).
    [[nodiscard]] std::string_view text() const noexcept { return body.view(); }
    /// The body as bytes (a view into the message, valid while the body is unchanged).
    [[nodiscard]] std::span<const std::uint8_t> bytes() const noexcept { return body.body(); }

    // ---- Shapes: make this message one of the common kinds, ready for enqueueToPeer ----
    // Each starts afresh (binary header cleared, so the engine picks a message id; text headers and body
    // emptied; `user` kept) and returns *this. Text headers may be appended afterwards.

    /// An application request (AppRequest) on channel ch carrying body; the peer answers with a response
    /// of the same message id.
    Message& asRequest(ChannelNumber ch, std::string_view body = {});
    /// An application request (AppRequest) on channel ch carrying the bytes of body.
    Message& asRequest(ChannelNumber ch, std::span<const std::uint8_t> body);
    /// A one-way application signal (AppSignal) on channel ch carrying body.
    Message& asSignal(ChannelNumber ch, std::string_view body = {});
    /// A one-way application signal (AppSignal) on channel ch carrying the bytes of body.
    Message& asSignal(ChannelNumber ch, std::span<const std::uint8_t> body);
    /// A graceful close of channel ch (ByeRequest): the peer answers with a ByeResponse, then the channel
    /// closes (its close notice follows).
    Message& asByeRequest(ChannelNumber ch);
    /// An immediate close of channel ch (ByeSignal). With oob on (the default) the channel closes at once
    /// and nothing queued is sent; with oob off the queued messages go first.
    Message& asByeSignal(ChannelNumber ch, Oob oob = Oob::on);
    /// Turns a received request (Hello, Bye or application request from a peer) into its response in
    /// place: role flipped, type, channel, message id and text headers kept, body kept. Throws
    /// AmpeError(not_allowed) when the message is not a request from a peer (origin engine, a response or
    /// a signal); the message is then unchanged.
    Message& asResponse();
    /// The same, with the body replaced by body.
    Message& asResponse(std::string_view body);
    /// The same, with the body replaced by the bytes of body.
    Message& asResponse(std::span<const std::uint8_t> body);

    /// Frees a message that is owned by nobody (no pool involved).
    static void destroy(Message* msg) noexcept;

  private:
    friend class detail::PoolCore;
    friend struct MessageDeleter;
    friend struct detail::MessageMark;

    // Set by the engine only, never sent: what this message is when the engine hands it over.
    enum class Mark : std::uint8_t { none, returned, engineSignal };
    Mark mark_ = Mark::none;

    static Message* allocate(std::pmr::memory_resource* mr);

    // The engine's links for its queues and the pool, and its context (the original's `<ctx>`): not the
    // application's business, reached through detail::Links<Message>.
    template <class T>
    friend struct detail::Links;
    Message* prev_ = nullptr;
    Message* next_ = nullptr;
    void* ctx_ = nullptr;
    std::pmr::memory_resource* mr_;
    detail::PoolCore* home_ = nullptr;  // the pool it returns to; holds one reference of it while out
};

/// Engine text header on a Welcome/Hello the engine gives back failed: what failed, with the address
/// and the operating system's words (`~error:listen on tcp|127.0.0.1|80: Permission denied`). Never
/// sent by the engine itself; prepareRequest() starts a message afresh without it.
inline constexpr std::string_view ErrorHeader = "~error";

/// Throws AmpeError when msg's status is not success; what() adds msg's ~error header when it has one
/// (a Welcome/Hello the engine gave back failed). The message-aware form of raw_to_error(status).
TOFU_API void raw_to_error(const Message& msg);

}  // namespace tofu
