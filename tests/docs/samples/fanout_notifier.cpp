// A complete program: a notifier fans signals out to 50 clients over TCP. Ten clients leave half-way;
// the notifier's sends to their closed channels report an error code, and it forgets them. At the end it
// says goodbye to the others after their last note.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <tofu/tofu.hpp>
#include <vector>

using namespace std::chrono_literals;

namespace {

constexpr int Clients = 50;
constexpr int Leavers = 10;  // clients 0..9 leave after half the notes
constexpr int Notes = 20;

// A client: its own group; counts the notes until its channel closes (or, for a leaver, until half of them
// came). Returns the notes it got.
int subscribe(tofu::Ampe& ampe, const std::string& url, bool leaver) {
    tofu::Group chnls = ampe.createGroup();
    tofu::MessagePtr hello = ampe.get(tofu::AllocationStrategy::always);
    tofu::parseUrl(url, tofu::UrlRole::connect).prepareRequest(*hello);
    const tofu::ChannelNumber ch = chnls->enqueueToPeer(hello).channel_number;
    int notes = 0;
    for (;;) {
        tofu::MessagePtr m = chnls->waitReceive(10s);
        if (!m || m->isCloseNotice() || (m->fromEngine() && m->type() == tofu::MessageType::hello)) {
            return notes;  // closed, refused, or silence
        }
        if (m->fromEngine() || !m->is(tofu::ValidCombination::AppSignal)) {
            continue;  // pool_empty (also a regular signal, from the engine)
        }
        if (++notes == Notes / 2 && leaver) {
            chnls->enqueueToPeer(ampe.byeSignal(ch));  // leave at once (oob), reading no more
            return notes;
        }
    }
}

}  // namespace

int main() try {
    const std::string url = "tcp://127.0.0.1:" + std::to_string(tofu::findFreeTcpPort());
    std::unique_ptr<tofu::Reactor> notifierEngine = tofu::Reactor::Create();
    std::unique_ptr<tofu::Reactor> clientEngine = tofu::Reactor::Create();
    tofu::Ampe& ampe = notifierEngine->ampe();
    tofu::Group chnls = ampe.createGroup();
    tofu::MessagePtr welcome = ampe.get(tofu::AllocationStrategy::always);
    tofu::parseUrl(url, tofu::UrlRole::listen).prepareRequest(*welcome);
    chnls->enqueueToPeer(welcome);
    tofu::raw_to_error(*chnls->waitReceive(tofu::waitReceive_FOREVER));  // throws unless listening

    std::vector<int> got(Clients);
    std::vector<std::jthread> clients;
    for (int i = 0; i < Clients; ++i) {
        clients.emplace_back([&, i] { got[i] = subscribe(clientEngine->ampe(), url, i < Leavers); });
    }

    // Accept the 50 clients: each Hello goes back as the HelloResponse; its channel is a subscriber's.
    std::vector<tofu::ChannelNumber> subscribers;
    auto handle = [&](tofu::MessagePtr m) {
        if (m->is(tofu::ValidCombination::HelloRequest) && !m->fromEngine()) {
            subscribers.push_back(m->channel());
            m->asResponse();
            chnls->enqueueToPeer(m);
        } else if (m->isCloseNotice()) {
            std::erase(subscribers, m->channel());
        }
    };
    while (subscribers.size() < Clients) {
        tofu::MessagePtr m = chnls->waitReceive(10s);
        if (!m) {
            throw tofu::AmpeError(tofu::AmpeStatus::connect_failed, "clients did not come");
        }
        handle(std::move(m));
    }

    // Fan out: a send to a channel that closed meanwhile sets ec (no exception); that subscriber is dropped.
    int refused = 0;
    for (int n = 0; n < Notes; ++n) {
        while (tofu::MessagePtr m = chnls->waitReceive(0ns)) {  // close notices that came meanwhile
            handle(std::move(m));
        }
        for (const tofu::ChannelNumber ch : std::vector(subscribers)) {
            std::error_code ec;
            chnls->post(ampe.signal(ch, "note " + std::to_string(n)), ec);
            if (ec) {
                ++refused;
                std::erase(subscribers, ch);
            }
        }
        std::this_thread::sleep_for(2ms);  // a notifier's pace: the leavers' byes arrive during the run
    }
    for (const tofu::ChannelNumber ch : subscribers) {  // after the last note (not oob): goodbye
        std::error_code ec;
        chnls->post(ampe.byeSignal(ch, tofu::Oob::off), ec);
    }
    clients.clear();  // joins: every client saw its channel close

    const long full = static_cast<long>(std::count(got.begin(), got.end(), Notes));  // long long on Win64
    std::printf("%d clients, %ld got all %d notes, %d sends refused on closed channels\n", Clients, full,
                Notes, refused);
    return full == Clients - Leavers ? 0 : 1;
} catch (const tofu::AmpeError& e) {
    std::fprintf(stderr, "fanout_notifier: %s\n", e.what());
    return 1;
}
