// Sample for docs/guide/shorthands.md: the C++ shorthands over the original's API, each one checked.
// One engine: a server group answering on a thread of its own, a client group using the builders, then a
// tofu::Client calling the same server.
#include <fmt/format.h>

#include <chrono>
#include <string>
#include <system_error>
#include <thread>
#include <tofu/tofu.hpp>

#include "sample_support.hpp"

using namespace std::chrono_literals;

namespace {

// --8<-- [start:serve]
// Answers every request of a peer; returns after `clients` channels have closed, or after 5 s of silence.
int serve(tofu::ChannelGroup& chnls, int clients) {
    int closed = 0;
    while (closed < clients) {
        tofu::MessagePtr msg = chnls.waitReceive(5s);  // a std::chrono duration; empty on timeout
        if (!msg) {
            break;
        }
        if (msg->isCloseNotice()) {
            ++closed;
            continue;
        }
        if (msg->fromEngine() || msg->role() != tofu::MessageRole::request) {
            continue;  // pool_empty, an answer of ours returned unsent, a peer's signal
        }
        if (msg->is(tofu::ValidCombination::AppRequest)) {
            msg->asResponse("echo: " + std::string(msg->text()));  // role flipped, new body
        } else {
            msg->asResponse();  // HelloRequest or ByeRequest: the same message goes back
        }
        std::error_code ec;
        chnls.enqueueToPeer(msg, ec);  // ec set: that peer left meanwhile (no try/catch needed)
    }
    return closed;
}
// --8<-- [end:serve]

}  // namespace

int main() try {
    bool ok = true;
    std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create();
    tofu::Ampe& ampe = reactor->ampe();

    // --8<-- [start:url]
    const std::string url = "tcp://127.0.0.1:" + std::to_string(tofu::findFreeTcpPort());
    const tofu::Configurator listen = tofu::parseUrl(url, tofu::UrlRole::listen);  // TCPServerConfigurator
    // tofu::toUrl(listen) == url; a malformed URL throws AmpeError(invalid_address) saying what is wrong

    std::string why;
    const tofu::Configurator bad = tofu::parseUrl("tcp://host:80x", tofu::UrlRole::connect, why);
    // bad.isWrong(), why == "port '80x' is not a number 1-65535" (the throwing form adds " in URL '...'")
    // --8<-- [end:url]
    ok = samples::expect(tofu::toUrl(listen) == url, "toUrl(parseUrl(url)) == url") && ok;
    ok = samples::expect(listen.get_if<tofu::TCPServerConfigurator>() != nullptr, "a TCP server") && ok;
    ok = samples::expect(bad.isWrong() && bad.status() == tofu::AmpeStatus::invalid_address, "bad URL") && ok;
    ok = samples::expect(why == "port '80x' is not a number 1-65535", "why names the bad port") && ok;

    // --8<-- [start:group]
    tofu::Group server = ampe.createGroup();  // owns its group: destroyed at the end of the scope
    tofu::MessagePtr welcome = ampe.get(tofu::AllocationStrategy::always);
    listen.prepareRequest(*welcome);
    server->enqueueToPeer(welcome);
    tofu::raw_to_error(*samples::receive(*server));  // the WelcomeResponse; throws unless listening
    // --8<-- [end:group]

    int closed = 0;
    std::jthread serving([&] { closed = serve(*server, 2); });

    {
        // --8<-- [start:talk]
        tofu::Group chnls = ampe.createGroup();
        tofu::MessagePtr hello = ampe.get(tofu::AllocationStrategy::always);
        tofu::parseUrl(url, tofu::UrlRole::connect).prepareRequest(*hello);
        const tofu::ChannelNumber ch = chnls->enqueueToPeer(hello).channel_number;
        tofu::raw_to_error(*samples::receive(*chnls));  // the HelloResponse, or our Hello back failed

        const tofu::MessageID id = chnls->enqueueToPeer(ampe.request(ch, "ping")).message_id;
        tofu::MessagePtr resp = chnls->waitReceive(5s);
        // resp->ok(), resp->is(AppResponse), resp->id() == id, resp->text() == "echo: ping"

        chnls->enqueueToPeer(ampe.signal(ch, "fyi"));  // one way: the server answers nothing
        chnls->enqueueToPeer(ampe.byeRequest(ch));     // graceful close: ByeResponse, then the close notice
        // --8<-- [end:talk]
        ok = samples::expect(resp && resp->ok() && !resp->fromEngine(), "a response from the server") && ok;
        ok = samples::expect(resp && resp->is(tofu::ValidCombination::AppResponse) && resp->id() == id &&
                                 resp->channel() == ch && resp->text() == "echo: ping",
                             "the response to our request") &&
             ok;

        tofu::MessagePtr byeResp = samples::receive(*chnls);
        ok = samples::expect(byeResp->is(tofu::ValidCombination::ByeResponse), "ByeResponse") && ok;
        ok = samples::expect(samples::receive(*chnls)->isCloseNotice(), "the close notice") && ok;

        // --8<-- [start:ec]
        std::error_code ec;
        tofu::MessagePtr late = ampe.signal(ch, "anyone?");
        chnls->enqueueToPeer(late, ec);  // refused, no exception: the channel is gone
        // ec == tofu::AmpeStatus::invalid_channel_number, and late still holds the message

        std::error_code wec;
        tofu::MessagePtr none = chnls->waitReceive(0s, wec);  // only looks: empty, wec cleared
        // --8<-- [end:ec]
        ok = samples::expect(ec == tofu::AmpeStatus::invalid_channel_number && late != nullptr,
                             "a send on a closed channel is refused through ec") &&
             ok;
        ok = samples::expect(!wec && !none, "waitReceive(0s, ec): nothing") && ok;
    }

    {
        // --8<-- [start:client]
        tofu::ClientOptions options;
        options.onConnected = [](tofu::ChannelNumber ch) { fmt::print("connected on channel {}\n", ch); };
        tofu::Client client(ampe, tofu::parseUrl(url, tofu::UrlRole::connect), options);

        tofu::MessagePtr answer = client.call("ping", 2s);  // any thread; waits for the connection too
        fmt::print("server says: {}\n", answer->text());

        std::error_code ec;
        tofu::MessagePtr more = client.call(ampe.request(0, "pong"), 2s, ec);  // no exception: ec says why
        client.close();  // ByeRequest; returns once the channel closed
        // --8<-- [end:client]
        ok = samples::expect(answer->text() == "echo: ping", "Client::call answered") && ok;
        ok = samples::expect(!ec && more && more->text() == "echo: pong", "Client::call with ec") && ok;
    }

    serving.join();
    ok = samples::expect(closed == 2, "the server saw both clients leave") && ok;

    // --8<-- [start:shapes]
    tofu::MessagePtr msg = ampe.request(7, "GET a");  // AppRequest on channel 7, id 0 (the engine picks)
    msg->thdrs.append("Job-ID", "42");                // text headers go on after the shape
    msg->asSignal(7, "tick");                         // starts afresh: an AppSignal, the header gone
    msg->asByeSignal(7);                              // ByeSignal, oob: closes channel 7 at once
    msg->asByeSignal(7, tofu::Oob::off);              // ByeSignal after what is queued
    // --8<-- [end:shapes]
    ok = samples::expect(msg->is(tofu::ValidCombination::ByeSignal) && msg->channel() == 7 &&
                             msg->bhdr.proto.oob == tofu::Oob::off && msg->thdrs.view().empty(),
                         "shapes start afresh") &&
         ok;
    try {
        msg->asResponse();  // a signal has no response
        ok = samples::expect(false, "asResponse() of a signal throws") && ok;
    } catch (const tofu::AmpeError& e) {
        ok = samples::expect(e.status() == tofu::AmpeStatus::not_allowed, "not_allowed") && ok;
    }
    return ok ? 0 : 1;
} catch (const tofu::AmpeError& e) {
    fmt::print(stderr, "shorthands: {}\n", e.what());
    return 1;
}
