// asio: an asynchronous echo server (standalone asio) and a synchronous client, tofu's framing; fan-in
// clients are asynchronous on one io_context run by the calling thread.
#include <asio.hpp>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <system_error>
#include <thread>

#include "contender.hpp"

namespace bench {

namespace {

using Clock = std::chrono::steady_clock;
using asio::ip::tcp;

// Reads one frame and either echoes it or counts it; in count mode sends one ack byte after `warm` frames
// and another after `limit` (warm + the measured ones).
class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(tcp::socket s, std::size_t payload, bool echo, std::size_t limit, std::size_t warm)
        : sock_(std::move(s)), buf_(16 + payload), echo_(echo), limit_(limit), warm_(warm) {}
    void start() { read(); }

  private:
    void read() {
        auto self = shared_from_this();
        asio::async_read(sock_, asio::buffer(buf_), [this, self](std::error_code ec, std::size_t) {
            if (ec) {
                return;
            }
            ++seen_;
            if (echo_) {
                asio::async_write(sock_, asio::buffer(buf_), [this, self](std::error_code wec, std::size_t) {
                    if (!wec) {
                        read();
                    }
                });
                return;
            }
            if (seen_ == limit_) {
                asio::async_write(sock_, asio::buffer(ack_), [self](std::error_code, std::size_t) {});
                return;
            }
            if (seen_ == warm_) {  // the client waits for it: no other write is pending
                asio::async_write(sock_, asio::buffer(ack_), [self](std::error_code, std::size_t) {});
            }
            read();
        });
    }

    tcp::socket sock_;
    std::vector<char> buf_;
    bool echo_;
    std::size_t limit_;
    std::size_t warm_;
    std::size_t seen_ = 0;
    char ack_[1] = {1};
};

class Asio final : public Contender {
  public:
    std::string name() const override { return "asio/tcp"; }

    std::vector<std::uint64_t> latency(std::size_t payload, std::size_t count, std::size_t warmup) override {
        Server srv(payload, true, 0);
        tcp::socket c = srv.connect();
        std::vector<char> frame(16 + payload, 'x');
        std::vector<std::uint64_t> samples;
        samples.reserve(count);
        for (std::size_t i = 0; i < count + warmup; ++i) {
            const auto t0 = Clock::now();
            asio::write(c, asio::buffer(frame));
            asio::read(c, asio::buffer(frame));
            if (i >= warmup) {
                samples.push_back(static_cast<std::uint64_t>((Clock::now() - t0).count()));
            }
        }
        return samples;
    }

    std::uint64_t throughput(std::size_t payload, std::size_t count, std::size_t warmup) override {
        Server srv(payload, false, warmup + count, warmup);
        tcp::socket c = srv.connect();
        std::vector<char> frame(16 + payload, 'x');
        auto flood = [&](std::size_t n) {
            for (std::size_t i = 0; i < n; ++i) {
                std::memcpy(frame.data() + 16, payloadBytes(payload).data(), payload);
                asio::write(c, asio::buffer(frame));
            }
            char ack = 0;
            asio::read(c, asio::buffer(&ack, 1));
        };
        flood(warmup);
        const auto t0 = Clock::now();
        flood(count);
        return static_cast<std::uint64_t>((Clock::now() - t0).count());
    }

    WindowResult window(std::size_t payload, std::size_t count, std::size_t warmup,
                        std::size_t outstanding) override {
        Server srv(payload, true, 0);
        tcp::socket c = srv.connect();
        std::vector<char> out(16 + payload, 'x');
        std::vector<char> in(16 + payload);
        auto send = [&] { asio::write(c, asio::buffer(out)); };
        auto recv = [&] { asio::read(c, asio::buffer(in)); };
        windowed(warmup, outstanding, send, recv, nullptr);
        WindowResult r;
        r.samples.reserve(count);
        r.ns = windowed(count, outstanding, send, recv, &r.samples);
        return r;
    }

    // `clients` sockets with asynchronous write/read chains on one io_context run by this thread, against
    // the asynchronous echo server (one thread, one session per connection).
    std::uint64_t fanIn(std::size_t payload, std::size_t clients, std::size_t perClient) override {
        Server srv(payload, true, 0);
        struct Client {
            tcp::socket sock;
            std::vector<char> buf;
            std::size_t left = 0;
        };
        std::vector<std::unique_ptr<Client>> cs;
        for (std::size_t i = 0; i < clients; ++i) {
            cs.push_back(
                std::make_unique<Client>(Client{srv.connect(), std::vector<char>(16 + payload, 'x')}));
        }
        std::function<void(Client*)> step = [&step](Client* c) {
            asio::async_write(c->sock, asio::buffer(c->buf), [&step, c](std::error_code ec, std::size_t) {
                if (ec) {
                    throw std::system_error(ec);
                }
                asio::async_read(c->sock, asio::buffer(c->buf), [&step, c](std::error_code rec, std::size_t) {
                    if (rec) {
                        throw std::system_error(rec);
                    }
                    if (--c->left > 0) {
                        step(c);
                    }
                });
            });
        };
        auto phase = [&](std::size_t n) {
            for (auto& c : cs) {
                c->left = n;
                step(c.get());
            }
            srv.clientIo.restart();
            srv.clientIo.run();
        };
        phase(1);
        const auto t0 = Clock::now();
        phase(perClient);
        return static_cast<std::uint64_t>((Clock::now() - t0).count());
    }

  private:
    struct Server {
        asio::io_context io;
        asio::io_context clientIo;
        tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
        std::thread thread;
        Server(std::size_t payload, bool echo, std::size_t limit, std::size_t warm = 0) {
            accept(payload, echo, limit, warm);
            thread = std::thread([this] { io.run(); });
        }
        void accept(std::size_t payload, bool echo, std::size_t limit, std::size_t warm) {
            acceptor.async_accept([this, payload, echo, limit, warm](std::error_code ec, tcp::socket s) {
                if (ec) {
                    return;
                }
                s.set_option(tcp::no_delay(true));
                std::make_shared<Session>(std::move(s), payload, echo, limit, warm)->start();
                accept(payload, echo, limit, warm);
            });
        }
        tcp::socket connect() {
            tcp::socket c(clientIo);
            c.connect(acceptor.local_endpoint());
            c.set_option(tcp::no_delay(true));
            return c;
        }
        ~Server() {
            io.stop();
            thread.join();
        }
    };
};

}  // namespace

void addAsio(std::vector<Entry>& out) {
    out.push_back({"asio/tcp", [] { return std::make_unique<Asio>(); }});
}

}  // namespace bench
