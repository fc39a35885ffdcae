// Sample for docs/guide/patterns.md: a request in parts, progress signals, and an answer in parts.
#include <chrono>
#include <string>
#include <vector>

#include "sample_support.hpp"

namespace {

// --8<-- [start:upload]
void uploadInParts(tofu::Ampe& ampe, tofu::ChannelGroup& chnls, tofu::ChannelNumber server,
                   tofu::MessageID job, const std::vector<std::string>& parts) {
    for (std::size_t i = 0; i < parts.size(); ++i) {
        tofu::MessagePtr part = ampe.request(server, parts[i]);  // regular: `more` is for regular only
        part->bhdr.message_id = job;                             // the same id on every part
        part->bhdr.proto.more =
            i + 1 < parts.size() ? tofu::MoreMessagesFlag::more : tofu::MoreMessagesFlag::last;
        chnls.enqueueToPeer(part);  // parts of one channel arrive in the order they were enqueued
    }
}
// --8<-- [end:upload]

// --8<-- [start:collect]
/// Appends the parts of a request to `data` until its last part, which it returns.
tofu::MessagePtr collectParts(tofu::ChannelGroup& chnls, std::string& data) {
    for (;;) {
        tofu::MessagePtr part = chnls.waitReceive(std::chrono::seconds(5));
        if (!part) {
            throw tofu::AmpeError(tofu::AmpeStatus::communication_failed, "the upload stalled");
        }
        if (part->fromEngine()) {
            continue;  // engine news: see error-handling.md
        }
        data.append(part->text());
        if (part->bhdr.proto.more == tofu::MoreMessagesFlag::last) {
            return part;  // its header names the job: channel and message id
        }
    }
}
// --8<-- [end:collect]

// --8<-- [start:progress]
void sendProgress(tofu::Ampe& ampe, tofu::ChannelGroup& chnls, const tofu::BinaryHeader& job, int percent) {
    tofu::MessagePtr sig = ampe.signal(job.channel_number, std::to_string(percent));  // news, not the answer
    sig->bhdr.message_id = job.message_id;  // ties the signal to the job
    chnls.enqueueToPeer(sig);
}
// --8<-- [end:progress]

// --8<-- [start:download]
void answerInParts(tofu::Ampe& ampe, tofu::ChannelGroup& chnls, const tofu::BinaryHeader& job,
                   std::string_view data, std::size_t partSize) {
    std::size_t done = 0;
    do {
        const std::string_view piece = data.substr(done, partSize);
        done += piece.size();
        tofu::MessagePtr part = ampe.get(tofu::AllocationStrategy::always);
        part->bhdr.proto.mtype = tofu::MessageType::regular;
        part->bhdr.proto.role = tofu::MessageRole::response;
        part->bhdr.channel_number = job.channel_number;
        part->bhdr.message_id = job.message_id;
        part->bhdr.proto.more =
            done < data.size() ? tofu::MoreMessagesFlag::more : tofu::MoreMessagesFlag::last;
        part->body.assign(piece);
        chnls.enqueueToPeer(part);
    } while (done < data.size());
}
// --8<-- [end:download]

// --8<-- [start:receive]
std::string receiveAnswer(tofu::ChannelGroup& chnls, tofu::MessageID job) {
    std::string answer;
    for (;;) {
        tofu::MessagePtr msg = chnls.waitReceive(std::chrono::seconds(5));
        if (!msg) {
            throw tofu::AmpeError(tofu::AmpeStatus::communication_failed, "the answer stalled");
        }
        if (msg->fromEngine() || msg->id() != job) {
            continue;  // not about this job
        }
        if (msg->role() == tofu::MessageRole::signal) {
            fmt::print("job {}: {}% done\n", job, msg->text());
        } else if (msg->role() == tofu::MessageRole::response) {
            answer.append(msg->text());
            if (msg->bhdr.proto.more == tofu::MoreMessagesFlag::last) {
                return answer;
            }
        }
    }
}
// --8<-- [end:receive]

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

        constexpr tofu::MessageID job = 1001;
        uploadInParts(ampe, *client, link.client, job, {"tofu ", "is as good ", "as its cook"});

        std::string data;
        tofu::MessagePtr last = collectParts(*server, data);
        sendProgress(ampe, *server, last->bhdr, 50);
        std::string upper = data;
        for (char& c : upper) {
            c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
        }
        sendProgress(ampe, *server, last->bhdr, 100);
        answerInParts(ampe, *server, last->bhdr, upper, 4);

        const std::string answer = receiveAnswer(*client, job);
        fmt::print("uploaded '{}', got back '{}'\n", data, answer);
        bool ok = samples::expect(data == "tofu is as good as its cook", "the upload") &&
                  samples::expect(answer == "TOFU IS AS GOOD AS ITS COOK", "the answer");
        ok = samples::expect(last->bhdr.channel_number == link.server, "the server's channel") && ok;
        return ok ? 0 : 1;
    } catch (const tofu::AmpeError& e) {
        fmt::print(stderr, "patterns_streaming: {}\n", e.what());
        return 1;
    }
}
