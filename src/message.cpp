#include "tofu/message.hpp"

#include <string>
#include <utility>
#include <vector>

#include <atomic>
#include <limits>

#include "pool.hpp"
#include "text.hpp"

namespace tofu {

namespace {

std::optional<TextHeader> splitRecord(std::string_view record) noexcept {
    const std::size_t colon = record.find(':');
    const std::string_view name = record.substr(0, colon);
    const std::string_view value =
        colon == std::string_view::npos ? std::string_view{} : record.substr(colon + 1);
    if (name.empty()) {
        return std::nullopt;  // an empty name ends the iteration
    }
    return TextHeader{name, detail::trim(value)};
}

std::atomic<MessageID> midCounter{0};

}  // namespace

// ---- text headers ----

std::optional<TextHeader> TextHeaderIterator::next() noexcept {
    while (index_ < bytes_.size()) {
        const std::size_t crlf = bytes_.find("\r\n", index_);
        if (crlf == std::string_view::npos) {  // a last record without CRLF
            const std::string_view record = bytes_.substr(index_);
            index_ = bytes_.size();
            return splitRecord(record);
        }
        if (crlf == index_) {  // an empty record: skip it
            index_ += 2;
            continue;
        }
        const std::string_view record = bytes_.substr(index_, crlf - index_);
        index_ = crlf + 2;
        return splitRecord(record);
    }
    return std::nullopt;
}

void TextHeaders::append(std::string_view name, std::string_view value) {
    const std::string_view nam = detail::trim(name, " \t\r\n");
    // Reject what would corrupt the record structure (header injection: the original's defect 12).
    if (nam.empty() || value.empty() || nam.find_first_of(":\r\n") != std::string_view::npos ||
        value.find_first_of("\r\n") != std::string_view::npos) {
        throw AmpeError(AmpeStatus::invalid_message);
    }
    const auto inside = [this](std::string_view v) {
        const auto p = reinterpret_cast<std::uintptr_t>(v.data());
        const auto base = reinterpret_cast<std::uintptr_t>(buffer.data());
        return buffer.data() != nullptr && p >= base && p < base + buffer.capacity();
    };
    if (inside(nam) || inside(value)) {
        // A record of these very headers: copy it out first (the buffer may move while it grows).
        const std::string n(nam);
        const std::string v(value);
        append(n, v);
        return;
    }
    buffer.reserve(buffer.size() + nam.size() + value.size() + 3);
    buffer.append(nam);
    buffer.append(std::string_view(":"));
    buffer.append(value);
    buffer.append(std::string_view("\r\n"));
}

void TextHeaders::appendSafe(TextHeaderIterator& it) {
    // The iterator may walk these very headers, whose buffer moves as it grows: take the records first.
    std::vector<std::pair<std::string, std::string>> records;
    while (std::optional<TextHeader> th = it.next()) {
        records.emplace_back(th->name, th->value);
    }
    for (const auto& [name, value] : records) {
        append(name, value);
    }
}

std::optional<std::string_view> TextHeaders::find(std::string_view name) const noexcept {
    TextHeaderIterator it = hiter();
    while (std::optional<TextHeader> th = it.next()) {
        if (th->name == name) {
            return th->value;
        }
    }
    return std::nullopt;
}

std::optional<ValidCombination> toValidCombination(MessageType mt, MessageRole role) noexcept {
    switch (mt) {
        case MessageType::regular:
            switch (role) {
                case MessageRole::request:
                    return ValidCombination::AppRequest;
                case MessageRole::response:
                    return ValidCombination::AppResponse;
                case MessageRole::signal:
                    return ValidCombination::AppSignal;
                default:
                    return std::nullopt;
            }
        case MessageType::welcome:
            return role == MessageRole::request ? std::optional(ValidCombination::WelcomeRequest)
                                                : std::nullopt;
        case MessageType::hello:
            switch (role) {
                case MessageRole::request:
                    return ValidCombination::HelloRequest;
                case MessageRole::response:
                    return ValidCombination::HelloResponse;
                default:
                    return std::nullopt;
            }
        case MessageType::bye:
            switch (role) {
                case MessageRole::request:
                    return ValidCombination::ByeRequest;
                case MessageRole::response:
                    return ValidCombination::ByeResponse;
                case MessageRole::signal:
                    return ValidCombination::ByeSignal;
                default:
                    return std::nullopt;
            }
    }
    return std::nullopt;
}

// ---- message ----

void MessageDeleter::operator()(Message* msg) const noexcept {
    if (msg == nullptr) {
        return;
    }
    if (msg->home_ != nullptr) {
        // The pool keeps it, or frees it when full or closed; the message's reference keeps the pool core
        // alive until put() is done with it.
        msg->home_->put(msg);
        return;
    }
    Message::destroy(msg);
}

Message::Message(Key, std::pmr::memory_resource* mr)
    // Buffers are reserved at their first write, not here: a fresh message costs one allocation, and a
    // body-only message two (the original reserved tlen and blen up front).
    : thdrs(mr, 0), body(mr, 0), mr_(mr) {}

Message* Message::allocate(std::pmr::memory_resource* mr) {
    if (mr == nullptr) {
        mr = std::pmr::get_default_resource();
    }
    std::pmr::polymorphic_allocator<Message> alloc(mr);
    Message* m = alloc.allocate(1);
    try {
        alloc.construct(m, Key{}, mr);
    } catch (...) {
        alloc.deallocate(m, 1);
        throw AmpeError(AmpeStatus::allocation_failed);
    }
    return m;
}

void Message::destroy(Message* msg) noexcept {
    if (msg == nullptr) {
        return;
    }
    detail::PoolCore* home = std::exchange(msg->home_, nullptr);
    std::pmr::polymorphic_allocator<Message> alloc(msg->mr_);
    std::destroy_at(msg);
    alloc.deallocate(msg, 1);
    if (home != nullptr) {
        home->release(1);  // a pool's message freed by hand: its reference goes with it
    }
}

MessagePtr Message::create(std::pmr::memory_resource* mr) {
    try {
        return MessagePtr(allocate(mr));
    } catch (const std::bad_alloc&) {
        throw AmpeError(AmpeStatus::allocation_failed);
    }
}

MessagePtr Message::clone() const {
    Message* m = home_ ? home_->make() : allocate(mr_);
    MessagePtr out(m);
    out->bhdr = bhdr;
    out->thdrs.buffer.assign(thdrs.buffer.body());
    out->body.assign(body.body());
    out->user = nullptr;  // the original's clone leaves `<void*>` null too
    out->ctx_ = nullptr;
    return out;
}

void Message::copyBh2Body() {
    // The wire form rather than the in-memory layout: 16 bytes as in the original, and readable by a
    // peer whatever its byte order.
    body.resize(BinaryHeader::BHSIZE);
    bhdr.toBytes(std::span<std::uint8_t, BinaryHeader::BHSIZE>(body.data(), BinaryHeader::BHSIZE));
}

std::optional<BinaryHeader> Message::bhVal() const noexcept {
    if (body.size() != BinaryHeader::BHSIZE) {
        return std::nullopt;
    }
    return BinaryHeader::from(
        std::span<const std::uint8_t, BinaryHeader::BHSIZE>(body.data(), BinaryHeader::BHSIZE));
}

void Message::reset() noexcept {
    bhdr.clean();
    thdrs.reset();
    body.reset();
    user = nullptr;
    ctx_ = nullptr;
    prev_ = nullptr;
    next_ = nullptr;
    mark_ = Mark::none;
}

ValidCombination Message::set(const BinaryHeader& bh, const TextHeaders* hdrs,
                              std::span<const std::uint8_t> data) {
    bhdr = bh;
    if (hdrs != &thdrs) {  // set(..., &m.thdrs, ...) keeps the headers as they are
        thdrs.reset();
        if (hdrs != nullptr) {
            TextHeaderIterator it = hdrs->hiter();
            thdrs.appendSafe(it);
        }
    }
    body.assign(data);  // data may be part of this body: assign copies with memmove
    return check_and_prepare();
}

void Message::setNotSafe(const BinaryHeader& bh, std::string_view hdrs, std::span<const std::uint8_t> data) {
    bhdr = bh;
    thdrs.buffer.assign(hdrs);  // either may be a view of this message's own bytes: assign handles it
    body.assign(data);
}

namespace {

// What check_and_prepare found wrong, in words (the exception's what()).
std::string checkFailure(AmpeStatus st, const Message& m) {
    const ProtoFields p = m.bhdr.proto;
    switch (st) {
        case AmpeStatus::not_allowed:
            if (p.internal != 0) {
                return "the internal bit of proto is reserved for the engine (a receiver refuses it)";
            }
            return p.origin != OriginFlag::application
                       ? "origin must be application (engine messages cannot be sent)"
                       : "a WelcomeResponse is made by the engine, not sent";
        case AmpeStatus::invalid_message_id:
            return "a response needs the message id of its request (it is 0)";
        case AmpeStatus::invalid_more_usage:
            return "only regular messages may set more";
        case AmpeStatus::invalid_message_mode:
            return "type " + std::to_string(static_cast<int>(p.mtype)) + " with role " +
                   std::to_string(static_cast<int>(p.role)) + " is not a valid combination";
        case AmpeStatus::invalid_channel_number:
            return "channel 0 is only for a WelcomeRequest or HelloRequest";
        case AmpeStatus::invalid_headers_len:
            return "text headers are " + std::to_string(m.actual_headers_len()) +
                   " bytes; the limit is 65535";
        case AmpeStatus::wrong_configuration:
            return "a WelcomeRequest/HelloRequest needs its address header (~listen_on/~connect_to)";
        case AmpeStatus::invalid_body_len:
            return "body is " + std::to_string(m.actual_body_len()) + " bytes; the limit is 65535";
        default:
            return "message refused";
    }
}

}  // namespace

void raw_to_error(const Message& msg) {
    if (msg.bhdr.status == 0) {
        return;
    }
    const std::optional<std::string_view> why = msg.thdrs.find(ErrorHeader);
    if (!why || why->empty()) {
        throw AmpeError(raw_to_status(msg.bhdr.status));
    }
    throw AmpeError(raw_to_status(msg.bhdr.status), std::string(*why));
}

ValidCombination Message::check_and_prepare() {
    ValidCombination vc{};
    const AmpeStatus st = check_and_prepare(vc);
    if (st != AmpeStatus::success) {
        throw AmpeError(st, checkFailure(st, *this));
    }
    return vc;
}

// The original's checks, in its order; each failure writes its status into the header.
AmpeStatus Message::check_and_prepare(ValidCombination& vc) noexcept {
    auto fail = [this](AmpeStatus st) {
        bhdr.status = status_to_raw(st);
        return st;
    };
    bhdr.status = status_to_raw(AmpeStatus::success);
    bhdr.bl = 0;
    bhdr.thl = 0;
    const ProtoFields p = bhdr.proto;

    if (p.origin != OriginFlag::application || p.internal != 0) {
        return fail(AmpeStatus::not_allowed);  // internal: reserved for the engine, refused by receivers
    }
    if (p.role == MessageRole::response && bhdr.message_id == 0) {
        return fail(AmpeStatus::invalid_message_id);
    }
    if (p.mtype != MessageType::regular && p.more == MoreMessagesFlag::more) {
        return fail(AmpeStatus::invalid_more_usage);
    }
    if (p.mtype == MessageType::welcome && p.role == MessageRole::response) {
        return fail(AmpeStatus::not_allowed);
    }
    const std::optional<ValidCombination> combo = toValidCombination(p.mtype, p.role);
    if (!combo) {
        return fail(AmpeStatus::invalid_message_mode);
    }
    if (bhdr.channel_number == SpecialMinChannelNumber && *combo != ValidCombination::WelcomeRequest &&
        *combo != ValidCombination::HelloRequest) {
        return fail(AmpeStatus::invalid_channel_number);
    }
    const std::size_t hl = actual_headers_len();
    if (hl > std::numeric_limits<std::uint16_t>::max()) {
        return fail(AmpeStatus::invalid_headers_len);
    }
    bhdr.thl = static_cast<std::uint16_t>(hl);
    if (bhdr.thl == 0 &&
        (*combo == ValidCombination::WelcomeRequest || *combo == ValidCombination::HelloRequest)) {
        return fail(AmpeStatus::wrong_configuration);
    }
    const std::size_t len = actual_body_len();
    if (len > std::numeric_limits<std::uint16_t>::max()) {
        return fail(AmpeStatus::invalid_body_len);
    }
    bhdr.bl = static_cast<std::uint16_t>(len);
    if (bhdr.message_id == 0) {
        bhdr.message_id = next_mid();
    }
    vc = *combo;
    return AmpeStatus::success;
}

MessageID Message::next_mid() noexcept {
    return midCounter.fetch_add(1, std::memory_order_relaxed) + 1;
}

}  // namespace tofu
