// tofu: Client — a connection that reconnects, and request/response calls over it from any thread.
#pragma once

#include "tofu/export.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_map>

#include "tofu/ampe.hpp"
#include "tofu/configurator.hpp"
#include "tofu/message.hpp"

namespace tofu {

/// Settings of a Client: reconnect backoff and what to call when things happen.
struct ClientOptions {
    /// Wait before the first retry after a failed connect; doubled after each further failure.
    std::chrono::milliseconds initialBackoff{50};
    /// Longest wait between two connect attempts.
    std::chrono::milliseconds maxBackoff{2000};
    /// Failed connects in a row after which the client gives up (calls then fail with connect_failed);
    /// 0 never gives up.
    unsigned maxAttempts = 0;
    /// Called with the channel number each time a connection stands (the first one and every reconnect).
    std::function<void(ChannelNumber)> onConnected;
    /// Called when the connection's channel closed (the close notice), with the channel number.
    std::function<void(ChannelNumber)> onDisconnected;
    /// Called with every message from the server that is not an answer to a call (its requests and
    /// signals); the message may be answered with group()->enqueueToPeer. Unset: such messages are dropped.
    /// The callbacks run on the client's receive thread: do not call() from them (its answer could only
    /// be received by that same thread, so the call would wait out its timeout).
    std::function<void(MessagePtr&)> onMessage;
};

/// A client connection to one server that reconnects by itself, and request/response calls over it that
/// any number of threads may make at once.
///
/// The Client owns a channel group and its receive loop: a thread of its own is the group's only
/// waitReceive() caller (waitReceive is single-consumer), so do not call waitReceive on group(). The loop
/// says Hello, and after a failed connect or a closed channel says it again, waiting initialBackoff,
/// then twice as long each time up to maxBackoff (a reconnect after a lost connection is tried at once).
/// onConnected reports each new channel number; channel() is the current one (0 while disconnected).
///
/// call() gives its request a fresh message id, sends it on the current channel and waits for the
/// response with that id. What happens to calls when the connection breaks:
/// - a call waiting for its response fails with channel_closed (or with the status its request came back
///   with: peer_disconnected, send_failed...). It is not sent again: the server may have processed it;
///   retrying is the caller's choice.
/// - a call made while disconnected waits for the reconnect, within its own timeout.
/// - a call fails with connect_failed once the client gave up (maxAttempts), and with shutdown_started
///   once close() began.
/// - a call that gets no response within its timeout fails with communication_failed; a response that
///   arrives later is dropped.
class TOFU_API Client {
  public:
    /// Starts connecting to server (a TCPClientConfigurator or UDSClientConfigurator, e.g. from
    /// parseUrl(url, UrlRole::connect)) with a group of ampe. Returns at once; see waitConnected().
    /// Throws AmpeError when the group cannot be created.
    Client(Ampe& ampe, Configurator server, ClientOptions options = {});
    /// close() with a 1 s bound.
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    /// Waits until connected; returns the channel number, or 0 when timeout passed or the client gave up.
    [[nodiscard]] ChannelNumber waitConnected(std::chrono::milliseconds timeout);
    /// The channel of the current connection; 0 while disconnected.
    [[nodiscard]] ChannelNumber channel() const;
    /// True once the client stopped trying (maxAttempts failed connects in a row).
    [[nodiscard]] bool gaveUp() const;

    /// Sends body as a request and returns the response (which may carry a failure status of the
    /// server's). Thread-safe. Throws AmpeError with the reasons listed above.
    [[nodiscard]] MessagePtr call(std::string_view body, std::chrono::milliseconds timeout);
    /// Sends request (shaped by the caller, e.g. with text headers; its role is made request, its channel
    /// and message id are set by the client) and returns the response. Throws AmpeError.
    [[nodiscard]] MessagePtr call(MessagePtr request, std::chrono::milliseconds timeout);
    /// call() without exceptions: empty with ec set on failure.
    [[nodiscard]] MessagePtr call(MessagePtr request, std::chrono::milliseconds timeout,
                                  std::error_code& ec) noexcept;

    /// Stops reconnecting, fails the calls still waiting with shutdown_started, says goodbye
    /// (ByeRequest, waiting up to timeout for the channel to close) and stops the receive loop. Idempotent.
    void close(std::chrono::milliseconds timeout = std::chrono::seconds(1));

    /// The engine the client uses.
    [[nodiscard]] Ampe& ampe() const noexcept { return group_.ampe(); }
    /// The client's channel group (to answer the server's requests from onMessage).
    [[nodiscard]] ChannelGroup* group() const noexcept { return group_.get(); }

  private:
    struct Pending;
    void run() noexcept;
    void handle(MessagePtr& m);
    void onHandshake(MessagePtr& m, std::unique_lock<std::mutex>& lk);
    [[nodiscard]] bool onChannel(MessagePtr& m, std::unique_lock<std::mutex>& lk);
    void completeCall(MessagePtr& m);
    void sayHello();
    void failPending(ChannelNumber ch, AmpeStatus why);  // mu_ held
    void failAllPending(AmpeStatus why);                 // mu_ held

    Group group_;
    Configurator server_;
    ClientOptions options_;

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::unordered_map<MessageID, Pending*> pending_;
    ChannelNumber channel_ = 0;  // connected channel
    ChannelNumber helloCh_ = 0;  // channel of the Hello on its way
    bool gaveUp_ = false;
    bool closing_ = false;
    bool stopped_ = false;

    // Receive thread only.
    unsigned failures_ = 0;
    std::chrono::milliseconds backoff_{0};
    std::chrono::steady_clock::time_point nextAttempt_{};
    std::atomic<bool> stop_{false};

    std::thread thread_;
};

}  // namespace tofu
