// Configurators: the original's configurator_tests, round trips and malformed addresses.
#include <catch2/catch.hpp>

#include "tofu/configurator.hpp"

#include <type_traits>

using namespace tofu;

namespace {
// Welcome and Hello signals are refused by check_and_prepare, so no configurator builds them.
template <class C>
concept HasPrepareSignal = requires(const C& c, Message& m) {
    c.prepareSignal(m);
};
}  // namespace

TEST_CASE("configurator: base configurator test", "[configurator]") {
    MessagePtr msg = Message::create();
    const Configurator conf = TCPClientConfigurator();
    conf.prepareRequest(*msg);
    const Configurator restored = Configurator::fromMessage(*msg);
    REQUIRE(conf.eql(restored));
    REQUIRE(conf == restored);
}

TEST_CASE("configurator: headers and binary header as the original writes them", "[configurator]") {
    MessagePtr m = Message::create();
    TCPClientConfigurator("example.org", 5000).prepareRequest(*m);
    REQUIRE(m->thdrs.view() == "~connect_to:tcp|example.org|5000\r\n");
    REQUIRE(m->bhdr.proto.mtype == MessageType::hello);
    REQUIRE(m->bhdr.proto.role == MessageRole::request);

    m->reset();
    TCPServerConfigurator("", 7099).prepareRequest(*m);
    REQUIRE(m->thdrs.view() == "~listen_on:tcp||7099\r\n");
    REQUIRE(m->bhdr.proto.mtype == MessageType::welcome);

    m->reset();
    UDSServerConfigurator("/tmp/x.sock").prepareRequest(*m);
    REQUIRE(m->thdrs.view() == "~listen_on:uds|/tmp/x.sock\r\n");
    REQUIRE(m->bhdr.proto.role == MessageRole::request);

    m->reset();
    UDSClientConfigurator("/tmp/x.sock").prepareRequest(*m);
    REQUIRE(m->thdrs.view() == "~connect_to:uds|/tmp/x.sock\r\n");

    m->reset();
    UDSServerConfigurator().prepareRequest(*m);  // empty path: the engine picks one
    REQUIRE(m->thdrs.view() == "~listen_on:uds|\r\n");
    REQUIRE(Configurator::fromMessage(*m) == Configurator(UDSServerConfigurator()));
    m->reset();
    REQUIRE_THROWS_AS(UDSClientConfigurator().prepareRequest(*m), AmpeError);

    REQUIRE(TCPClientConfigurator().addr == DefaultAddr);
    REQUIRE(TCPClientConfigurator().port == DefaultPort);
    REQUIRE(DefaultPort == 7099);
}

TEST_CASE("configurator: round trips", "[configurator]") {
    const Configurator all[] = {
        TCPServerConfigurator("0.0.0.0", 1),    TCPServerConfigurator("", 65535),
        TCPClientConfigurator("::1", 80),       TCPClientConfigurator("host.name", 7099),
        UDSServerConfigurator("/tmp/a b.sock"), UDSClientConfigurator("/tmp/c")};
    for (const Configurator& c : all) {
        MessagePtr m = Message::create();
        c.prepareRequest(*m);
        REQUIRE(Configurator::fromMessage(*m) == c);
        REQUIRE(Configurator::fromMessage(*m).status() == AmpeStatus::success);
    }
}

TEST_CASE("configurator: the first address header wins", "[configurator]") {
    MessagePtr m = Message::create();
    m->thdrs.append("other", "x");
    m->thdrs.append(ListenOnHeader, "uds|/tmp/first");
    m->thdrs.append(ConnectToHeader, "tcp|h|1");
    REQUIRE(Configurator::fromMessage(*m) == Configurator(UDSServerConfigurator("/tmp/first")));
}

TEST_CASE("configurator: malformed configurations", "[configurator]") {
    auto reason = [](std::string_view v, bool server) {
        return Configurator::fromString(v, server).status();
    };
    REQUIRE(reason("tcp|1.2.3.4|5|6", false) == AmpeStatus::invalid_address);  // 4 parts: no overflow
    REQUIRE(reason("tcp|a|b|c|d|e|f", true) == AmpeStatus::invalid_address);
    REQUIRE(reason("tcp|host|notaport", false) == AmpeStatus::invalid_address);
    REQUIRE(reason("tcp|host|65536", false) == AmpeStatus::invalid_address);
    REQUIRE(reason("tcp|host|-1", false) == AmpeStatus::invalid_address);
    REQUIRE(reason("tcp|host|", false) == AmpeStatus::invalid_address);
    REQUIRE(reason("tcp||80", false) == AmpeStatus::invalid_address);  // a client needs a host
    REQUIRE(reason("tcp||80", true) == AmpeStatus::success);           // a server: every interface
    REQUIRE(reason("uds|", true) == AmpeStatus::success);              // a server: the engine picks a path
    REQUIRE(Configurator::fromString("uds|", true) == Configurator(UDSServerConfigurator()));
    REQUIRE(reason("uds|", false) == AmpeStatus::invalid_address);  // a client needs the server's path
    REQUIRE(reason("uds|" + std::string(200, 'p'), false) == AmpeStatus::invalid_address);
    REQUIRE(reason("udp|x|1", false) == AmpeStatus::invalid_address);  // a header that does not parse
    REQUIRE(reason("udp|x", true) == AmpeStatus::invalid_address);
    REQUIRE(reason("nothing", false) == AmpeStatus::invalid_address);
    REQUIRE(reason("", false) == AmpeStatus::invalid_address);
    // found by fuzz_text_headers: a NUL in a path, and spaces a header value would lose
    REQUIRE(reason(std::string("uds|\x01\0m2 ", 9), true) == AmpeStatus::invalid_address);
    REQUIRE(Configurator::fromString(" uds | /tmp/p \t", true) ==
            Configurator(UDSServerConfigurator("/tmp/p")));

    MessagePtr none = Message::create();
    REQUIRE(Configurator::fromMessage(*none).status() == AmpeStatus::wrong_configuration);
    none->thdrs.append("~connect_to_x", "tcp|h|1");
    REQUIRE(Configurator::fromMessage(*none).status() == AmpeStatus::wrong_configuration);  // no such header

    MessagePtr m = Message::create();
    REQUIRE_THROWS_AS(WrongConfigurator{}.prepareRequest(*m), AmpeError);
    REQUIRE_THROWS_AS(TCPClientConfigurator("", 1).prepareRequest(*m), AmpeError);
    REQUIRE_THROWS_AS(TCPClientConfigurator("evil\r\nx:y", 1).prepareRequest(*m), AmpeError);
}

TEST_CASE("configurator: no Welcome/Hello signals are offered", "[configurator]") {
    static_assert(!HasPrepareSignal<TCPClientConfigurator>);
    static_assert(!HasPrepareSignal<TCPServerConfigurator>);
    static_assert(!HasPrepareSignal<UDSClientConfigurator>);
    static_assert(!HasPrepareSignal<UDSServerConfigurator>);
    static_assert(!HasPrepareSignal<WrongConfigurator>);
    static_assert(!HasPrepareSignal<Configurator>);
    // what such a signal would be: refused before it reaches the engine
    MessagePtr m = Message::create();
    TCPClientConfigurator().prepareRequest(*m);
    m->bhdr.proto.role = MessageRole::signal;
    REQUIRE_THROWS_AS(m->check_and_prepare(), AmpeError);
    REQUIRE(raw_to_status(m->bhdr.status) == AmpeStatus::invalid_message_mode);
}

TEST_CASE("configurator: upstream's Address names are the same types", "[configurator]") {
    static_assert(std::is_same_v<Address, Configurator>);
    static_assert(std::is_same_v<TCPServerAddress, TCPServerConfigurator>);
    static_assert(std::is_same_v<TCPClientAddress, TCPClientConfigurator>);
    static_assert(std::is_same_v<UDSServerAddress, UDSServerConfigurator>);
    static_assert(std::is_same_v<UDSClientAddress, UDSClientConfigurator>);
    static_assert(std::is_same_v<WrongAddress, WrongConfigurator>);
    MessagePtr m = Message::create();
    const Address addr = TCPClientAddress("example.org", 5000);
    addr.prepareRequest(*m);
    REQUIRE(m->thdrs.view() == "~connect_to:tcp|example.org|5000\r\n");  // no wire change
    REQUIRE(Address::fromMessage(*m) == addr);
}
