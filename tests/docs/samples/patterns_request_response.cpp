// Sample for docs/guide/patterns.md: request/response and correlation by message id.
#include <chrono>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "sample_support.hpp"

namespace {

// --8<-- [start:request]
tofu::MessageID sendRequest(tofu::Ampe& ampe, tofu::ChannelGroup& chnls, tofu::ChannelNumber server,
                            std::string_view question) {
    // ampe.request: get() and the header set (regular, request, channel server, id 0), body question
    return chnls.enqueueToPeer(ampe.request(server, question)).message_id;  // tofu picked the id: keep it
}
// --8<-- [end:request]

// --8<-- [start:answer]
void answer(tofu::ChannelGroup& chnls, tofu::MessagePtr& req) {
    const std::string result = fmt::format("{} bytes received", req->actual_body_len());
    req->asResponse(result);  // role flipped, new body; channel and message id stay as they came
    chnls.enqueueToPeer(req);
}
// --8<-- [end:answer]

// --8<-- [start:correlate]
class Correlator {
  public:
    struct Pending {
        std::string what;
        std::chrono::steady_clock::time_point sentAt;
    };

    void sent(tofu::MessageID id, std::string what) {
        pending_.emplace(id, Pending{std::move(what), std::chrono::steady_clock::now()});
    }

    /// The request a response answers, or nullopt for a response nobody waits for (any more).
    std::optional<Pending> answered(const tofu::Message& resp) {
        const auto it = pending_.find(resp.id());
        if (it == pending_.end()) {
            return std::nullopt;
        }
        Pending p = std::move(it->second);
        pending_.erase(it);
        return p;
    }

    /// Requests waiting longer than `limit`, forgotten: call it when waitReceive times out.
    std::vector<tofu::MessageID> expire(std::chrono::steady_clock::duration limit) {
        std::vector<tofu::MessageID> late;
        const auto now = std::chrono::steady_clock::now();
        std::erase_if(pending_, [&](const auto& kv) {
            if (now - kv.second.sentAt <= limit) {
                return false;
            }
            late.push_back(kv.first);
            return true;
        });
        return late;
    }

  private:
    std::unordered_map<tofu::MessageID, Pending> pending_;
};
// --8<-- [end:correlate]

}  // namespace

int main() {
    try {
        std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create();
        tofu::Ampe& ampe = reactor->ampe();
        tofu::DestroyChannels server(ampe);
        tofu::DestroyChannels client(ampe);
        const std::string path = tofu::tempUdsPath();
        const samples::Link link = samples::connect(ampe, *server, *client, tofu::UDSServerConfigurator(path),
                                                    tofu::UDSClientConfigurator(path));

        Correlator pending;
        for (std::string_view q : {"first", "second question", "third"}) {
            pending.sent(sendRequest(ampe, *client, link.client, q), std::string(q));
        }
        for (int i = 0; i < 3; ++i) {
            tofu::MessagePtr req = samples::receive(*server);
            answer(*server, req);
        }
        bool ok = true;
        for (int i = 0; i < 3; ++i) {
            tofu::MessagePtr resp = samples::receive(*client);
            const std::optional<Correlator::Pending> p = pending.answered(*resp);
            ok = samples::expect(p.has_value(), "a response to a pending request") && ok;
            if (p) {
                fmt::print("{} -> {}\n", p->what, resp->body.view());
                ok = samples::expect(resp->body.view() == fmt::format("{} bytes received", p->what.size()),
                                     "the answer") &&
                     ok;
            }
        }
        ok = samples::expect(pending.expire(std::chrono::seconds(0)).empty(), "nothing left") && ok;
        return ok ? 0 : 1;
    } catch (const tofu::AmpeError& e) {
        fmt::print(stderr, "patterns_request_response: {}\n", e.what());
        return 1;
    }
}
