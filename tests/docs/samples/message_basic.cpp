// Sample for docs/guide/message.md: building, checking and reading a message without any network.
#include <fmt/format.h>

#include <string>
#include <tofu/tofu.hpp>

namespace {

// --8<-- [start:fill]
void fillRequest(tofu::Message& msg, tofu::ChannelNumber peer, tofu::MessageID job) {
    msg.bhdr.proto.mtype = tofu::MessageType::regular;  // an application message...
    msg.bhdr.proto.role = tofu::MessageRole::request;   // ...that asks for an answer
    msg.bhdr.channel_number = peer;                     // the channel a Hello or an accept gave us
    msg.bhdr.message_id = job;                          // ours to choose; 0 lets tofu pick one

    msg.thdrs.append("Content-Type", "text/plain");  // name:value records, checked as they go in
    msg.thdrs.append("Job-ID", std::to_string(job));
    msg.body.assign("hello tofu");  // any bytes, up to 65535
}
// --8<-- [end:fill]

// --8<-- [start:fill-short]
void fillRequestShort(tofu::Message& msg, tofu::ChannelNumber peer, tofu::MessageID job) {
    msg.asRequest(peer, "hello tofu");  // regular + request on channel peer; header and body afresh
    msg.bhdr.message_id = job;          // asRequest leaves it 0: tofu picks one unless we do

    msg.thdrs.append("Content-Type", "text/plain");  // text headers after the shape
    msg.thdrs.append("Job-ID", std::to_string(job));
}
// --8<-- [end:fill-short]

// --8<-- [start:read]
void printMessage(const tofu::Message& msg) {
    fmt::print("{}\n", msg.bhdr);  // channel, type/role/origin, id, lengths, status

    tofu::TextHeaderIterator it = msg.thdrs.hiter();
    while (std::optional<tofu::TextHeader> th = it.next()) {
        fmt::print("  {} = {}\n", th->name, th->value);
    }
    if (std::optional<std::string_view> job = msg.thdrs.find("Job-ID")) {
        fmt::print("  job {}\n", *job);
    }
    fmt::print("  body: {} bytes: {}\n", msg.actual_body_len(), msg.body.view());
}
// --8<-- [end:read]

// --8<-- [start:kind]
std::string_view describe(const tofu::BinaryHeader& bh) {
    if (bh.proto.origin == tofu::OriginFlag::engine) {
        return "news from the engine: look at the status";
    }
    const std::optional<tofu::ValidCombination> vc = tofu::toValidCombination(bh.proto.mtype, bh.proto.role);
    if (!vc) {
        return "not a combination an application may send";
    }
    switch (*vc) {
        case tofu::ValidCombination::HelloRequest:
            return "a peer wants to connect";
        case tofu::ValidCombination::AppRequest:
            return bh.proto.more == tofu::MoreMessagesFlag::more ? "a request, more parts follow"
                                                                 : "a request";
        case tofu::ValidCombination::AppSignal:
            return "a one-way notification";
        case tofu::ValidCombination::ByeRequest:
            return "the peer wants to close";
        default:
            return "a response or another bye";
    }
}
// --8<-- [end:kind]

// --8<-- [start:configure]
tofu::Configurator configure(tofu::Message& hello, tofu::Message& welcome, const std::string& path) {
    // WelcomeRequest with ~listen_on:tcp||7099 (empty address: every interface)
    tofu::TCPServerConfigurator("", 7099).prepareRequest(welcome);
    // HelloRequest with ~connect_to:tcp|127.0.0.1|7099
    tofu::TCPClientConfigurator("127.0.0.1", 7099).prepareRequest(hello);
    // the same over a Unix domain socket; prepareRequest() resets the binary header but appends
    // to the text headers, so give it an empty message
    hello.reset();
    tofu::UDSClientConfigurator(path).prepareRequest(hello);
    // and back from the header
    return tofu::Configurator::fromMessage(hello);
}
// --8<-- [end:configure]

bool expect(bool ok, std::string_view what) {
    if (!ok) {
        fmt::print(stderr, "FAILED: {}\n", what);
    }
    return ok;
}

}  // namespace

int main() {
    try {
        // --8<-- [start:standalone]
        tofu::MessagePtr msg = tofu::Message::create();  // no engine needed: a free-standing message
        fillRequest(*msg, 42, 7);

        tofu::ValidCombination vc{};
        const tofu::AmpeStatus st = msg->check_and_prepare(vc);  // what enqueueToPeer() checks first
        // st == success, vc == AppRequest; thl and bl now hold the lengths

        const tofu::BinaryHeader::Bytes wire = msg->bhdr.toBytes();  // the 16 bytes that lead the frame
        // --8<-- [end:standalone]

        printMessage(*msg);
        fmt::print("  {}\n", describe(msg->bhdr));
        bool ok = expect(st == tofu::AmpeStatus::success, "check_and_prepare succeeds");
        ok = expect(vc == tofu::ValidCombination::AppRequest, "an AppRequest") && ok;
        ok = expect(msg->bhdr.bl == 10 && msg->bhdr.thl == msg->actual_headers_len(), "lengths set") && ok;
        ok = expect(tofu::BinaryHeader::from(wire) == msg->bhdr, "header round trip") && ok;
        tofu::MessagePtr shortForm = tofu::Message::create();
        fillRequestShort(*shortForm, 42, 7);
        ok = expect(shortForm->check_and_prepare(vc) == tofu::AmpeStatus::success &&
                        shortForm->bhdr == msg->bhdr && shortForm->text() == msg->text() &&
                        shortForm->thdrs.view() == msg->thdrs.view(),
                    "the short form fills the same request") &&
             ok;

        // --8<-- [start:limits]
        msg->body.resize(70'000);  // more than a frame can carry
        const tofu::AmpeStatus tooBig = msg->check_and_prepare(vc);
        // tooBig == invalid_body_len, and msg->bhdr.status holds it too: split big data with the more flag

        try {
            msg->thdrs.append("Bad\r\nName", "x");  // CR/LF would inject a record
        } catch (const tofu::AmpeError& e) {
            fmt::print("refused: {}\n", e.status());  // invalid_message
        }
        // --8<-- [end:limits]
        ok = expect(tooBig == tofu::AmpeStatus::invalid_body_len, "invalid_body_len") && ok;
        ok = expect(msg->status() == tofu::AmpeStatus::invalid_body_len, "status written into the header") &&
             ok;

        // --8<-- [start:clone]
        tofu::MessagePtr copy = msg->clone();  // deep copy; goes back to the same pool as msg
        copy->reset();                         // empty again, capacities kept
        // --8<-- [end:clone]
        ok = expect(copy->actual_body_len() == 0 && copy->bhdr == tofu::BinaryHeader{}, "reset") && ok;
        tofu::MessagePtr welcome = tofu::Message::create();
        const tofu::Configurator cfg = configure(*copy, *welcome, "/tmp/app.sock");
        const auto* uds = cfg.get_if<tofu::UDSClientConfigurator>();
        ok = expect(uds != nullptr && uds->path == "/tmp/app.sock", "configurator round trip") && ok;
        ok = expect(welcome->thdrs.find(tofu::ListenOnHeader) == "tcp||7099", "listen_on header") && ok;
        return ok ? 0 : 1;
    } catch (const tofu::AmpeError& e) {
        fmt::print(stderr, "message_basic: {}\n", e.what());
        return 1;
    }
}
