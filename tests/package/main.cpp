// A UDS round trip through an installed or embedded tofu.
#include <tofu/tofu.hpp>

#include <cstdio>

int main() {
    std::unique_ptr<tofu::Reactor> reactor = tofu::Reactor::Create();
    tofu::Ampe& ampe = reactor->ampe();
    tofu::DestroyChannels srv(ampe);
    tofu::DestroyChannels cli(ampe);
    const std::string path = tofu::tempUdsPath();
    const auto wait = [](tofu::ChannelGroup& g) {
        tofu::MessagePtr m = g.waitReceive(5 * tofu::waitReceive_SEC_TIMEOUT);
        if (!m || m->bhdr.status != 0) {
            throw tofu::AmpeError(tofu::AmpeStatus::communication_failed, "no answer");
        }
        return m;
    };
    tofu::MessagePtr welcome = ampe.get(tofu::AllocationStrategy::always);
    tofu::UDSServerConfigurator(path).prepareRequest(*welcome);
    srv->enqueueToPeer(welcome);
    (void)wait(*srv);
    tofu::MessagePtr hello = ampe.get(tofu::AllocationStrategy::always);
    tofu::UDSClientConfigurator(path).prepareRequest(*hello);
    cli->enqueueToPeer(hello);
    tofu::MessagePtr req = wait(*srv);
    req->bhdr.proto.role = tofu::MessageRole::response;
    req->body.assign(std::string_view("pong"));
    srv->enqueueToPeer(req);
    tofu::MessagePtr resp = wait(*cli);
    std::printf("tofu %s consumer: %.*s\n", TOFU_VERSION_STRING, static_cast<int>(resp->body.size()),
                reinterpret_cast<const char*>(resp->body.data()));
    return resp->body.view() == "pong" ? 0 : 1;
}
