// Sample for docs/guide/error-handling.md: what a close cannot give back. Requests are kept by message id
// until answered; a returned one was never sent; at the close notice, what is still pending is unknown.
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sample_support.hpp"

namespace {

// --8<-- [start:pending]
/// Requests sent and not answered yet, by message id (the ids enqueueToPeer assigns are unique).
class PendingRequests {
  public:
    struct Request {
        tofu::ChannelNumber channel = 0;
        std::string body;
        bool idempotent = false;  // harmless when done twice: a read, "set x to 5" (not "add 5 to x")
    };

    void sent(tofu::MessageID id, Request r) { pending_.emplace(id, std::move(r)); }

    /// Forgets and returns the request with this id, if it is still pending.
    std::optional<Request> take(tofu::MessageID id) {
        const auto it = pending_.find(id);
        if (it == pending_.end()) {
            return std::nullopt;
        }
        Request r = std::move(it->second);
        pending_.erase(it);
        return r;
    }

    /// Forgets and returns every request still pending on a channel.
    std::vector<Request> takeChannel(tofu::ChannelNumber ch) {
        std::vector<Request> left;
        std::erase_if(pending_, [&](auto& kv) {
            if (kv.second.channel != ch) {
                return false;
            }
            left.push_back(std::move(kv.second));
            return true;
        });
        return left;
    }

    [[nodiscard]] bool empty() const noexcept { return pending_.empty(); }

  private:
    std::unordered_map<tofu::MessageID, Request> pending_;
};
// --8<-- [end:pending]

// --8<-- [start:outcome]
struct Outcome {
    std::vector<PendingRequests::Request> resend;  // to send again, on a new connection if this one closed
    std::vector<PendingRequests::Request> failed;  // to report: perhaps done by the peer, perhaps not
    int answered = 0;
};

void onMessage(const tofu::Message& msg, PendingRequests& pending, Outcome& out) {
    if (msg.isCloseNotice()) {
        for (PendingRequests::Request& r : pending.takeChannel(msg.channel())) {
            // Written to the socket and never answered: the peer may or may not have acted on it.
            (r.idempotent ? out.resend : out.failed).push_back(std::move(r));
        }
        return;
    }
    if (msg.isReturned()) {
        if (std::optional<PendingRequests::Request> r = pending.take(msg.id())) {
            out.resend.push_back(std::move(*r));  // never sent: safe to send again, idempotent or not
        }
        return;  // not pending: it came after the close notice, which already counted it as unknown
    }
    if (!msg.fromEngine() && msg.role() == tofu::MessageRole::response &&
        pending.take(msg.id()).has_value()) {
        ++out.answered;
    }
}
// --8<-- [end:outcome]

tofu::MessageID ask(tofu::Ampe& ampe, tofu::ChannelGroup& chnls, tofu::ChannelNumber ch,
                    const std::string& body) {
    return chnls.enqueueToPeer(ampe.request(ch, body)).message_id;
}

/// The next message a peer sent to the group (engine news skipped).
tofu::MessagePtr fromPeer(tofu::ChannelGroup& chnls) {
    for (;;) {
        tofu::MessagePtr msg = samples::receive(chnls);
        if (!msg->fromEngine()) {
            return msg;
        }
    }
}

void answer(tofu::ChannelGroup& chnls, tofu::MessagePtr& msg) {
    msg->asResponse();
    chnls.enqueueToPeer(msg);
}

}  // namespace

int main() {
    try {
        std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create();
        tofu::Ampe& ampe = reactor->ampe();
        tofu::Group server = ampe.createGroup();
        tofu::Group client = ampe.createGroup();
        const std::string path = tofu::tempUdsPath();
        const samples::Link link = samples::connect(ampe, *server, *client, tofu::UDSServerConfigurator(path),
                                                    tofu::UDSClientConfigurator(path));

        PendingRequests pending;
        Outcome out;
        const std::vector<PendingRequests::Request> work = {{link.client, "read balance", true},
                                                            {link.client, "transfer 10", false},
                                                            {link.client, "ping", true}};
        for (const PendingRequests::Request& r : work) {
            pending.sent(ask(ampe, *client, link.client, r.body), r);
        }

        // The server reads all three requests, answers the ping only, then drops the connection.
        for (std::size_t i = 0; i < work.size(); ++i) {
            tofu::MessagePtr req = fromPeer(*server);
            if (req->body.view() == "ping") {
                answer(*server, req);
            }
        }
        while (out.answered == 0) {
            onMessage(*samples::receive(*client), pending, out);
        }
        server->enqueueToPeer(ampe.byeSignal(link.server));  // the server drops the connection
        while (!pending.empty()) {                           // until the close notice settles the rest
            onMessage(*samples::receive(*client), pending, out);
        }

        // A new connection for what may be sent again.
        tofu::MessagePtr hello = ampe.get(tofu::AllocationStrategy::always);
        tofu::UDSClientConfigurator(path).prepareRequest(*hello);
        const tofu::ChannelNumber again = client->enqueueToPeer(hello).channel_number;
        tofu::MessagePtr accept = fromPeer(*server);
        answer(*server, accept);
        tofu::raw_to_error(*samples::receive(*client));  // the HelloResponse
        const std::vector<PendingRequests::Request> resend = std::exchange(out.resend, {});
        for (const PendingRequests::Request& r : resend) {
            pending.sent(ask(ampe, *client, again, r.body), {again, r.body, r.idempotent});
            tofu::MessagePtr req = fromPeer(*server);
            answer(*server, req);
        }
        while (!pending.empty()) {
            onMessage(*samples::receive(*client), pending, out);
        }

        fmt::print("answered {}, failed {}: {}\n", out.answered, out.failed.size(),
                   out.failed.empty() ? "" : out.failed.front().body);
        bool ok = samples::expect(out.answered == 2, "ping, then the read sent again");
        ok = samples::expect(out.failed.size() == 1 && out.failed.front().body == "transfer 10",
                             "the transfer is unknown") &&
             ok;
        return ok ? 0 : 1;
    } catch (const tofu::AmpeError& e) {
        fmt::print(stderr, "error_handling_pending: {}\n", e.what());
        return 1;
    }
}
