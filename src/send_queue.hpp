// A channel's outgoing frames: their order (oob, ByeResponse), how much of the head frame is written, and
// the byte count the send-queue limit looks at. Reactor thread only.
#pragma once

#include <cstddef>

#include "intrusive_queue.hpp"
#include "pool_batches.hpp"
#include "tofu/message.hpp"

namespace tofu::detail {

class SendQueue {
  public:
    /// pool: the engine's, told how many frames of its messages wait here (PoolBatches::mayBorrow).
    explicit SendQueue(PoolBatches* pool = nullptr) noexcept : pool_(pool) {}
    /// Frames dropped with the queue leave the engine's count too.
    ~SendQueue() { tally(-static_cast<std::ptrdiff_t>(pooled_)); }
    SendQueue(SendQueue&& o) noexcept
        : pool_(o.pool_), q_(std::move(o.q_)), pooled_(o.pooled_), sentOff_(o.sentOff_), bytes_(o.bytes_) {
        o.pooled_ = o.sentOff_ = o.bytes_ = 0;
    }
    SendQueue(const SendQueue&) = delete;
    SendQueue& operator=(const SendQueue&) = delete;
    SendQueue& operator=(SendQueue&&) = delete;

    [[nodiscard]] static std::size_t frameSize(const Message& m) noexcept {
        return BinaryHeader::BHSIZE + m.bhdr.thl + m.bhdr.bl;
    }
    [[nodiscard]] static bool isBye(const Message& m) noexcept {
        return m.bhdr.proto.mtype == MessageType::bye;
    }
    [[nodiscard]] static bool isByeResponse(const Message& m) noexcept {
        return isBye(m) && m.bhdr.proto.role == MessageRole::response;
    }

    [[nodiscard]] bool empty() const noexcept { return q_.empty(); }
    [[nodiscard]] Message* front() const noexcept { return q_.front(); }
    [[nodiscard]] std::size_t queuedBytes() const noexcept { return bytes_; }
    /// Frames queued, the head one included however much of it is written.
    [[nodiscard]] std::size_t count() const noexcept { return q_.count(); }
    /// Bytes of the head frame already written.
    [[nodiscard]] std::size_t sentOff() const noexcept { return sentOff_; }

    /// True when m (a regular, non-oob message) would take the queue past limit: the peer does not read.
    [[nodiscard]] bool wouldExceed(const Message& m, std::size_t limit) const noexcept {
        return !isBye(m) && m.bhdr.proto.oob == Oob::off && !q_.empty() && bytes_ + frameSize(m) > limit;
    }

    /// Queues m where it belongs: at the tail, except
    ///  - oob: ahead of regular messages, behind earlier oob ones (FIFO among them), never in front of the
    ///    Hello (the peer's first frame must be it) or of a frame already partly written;
    ///  - a ByeResponse while our own bye is queued or written (both peers said bye at once: each must
    ///    still answer the other's): right behind that bye.
    void add(Message* m, bool byeWritten) noexcept {
        bytes_ += frameSize(*m);
        counted(*m, 1);
        q_.insertBefore(position(*m, byeWritten), m);
    }

    /// m goes out (or comes back) before everything else; a partly written head frame stays the head.
    void addFront(Message* m) noexcept {
        if (q_.empty()) {
            sentOff_ = 0;
        }
        bytes_ += frameSize(*m);
        counted(*m, 1);
        q_.pushFront(m);
    }

    /// Takes the head frame off once it is written whole.
    Message* popWritten() noexcept {
        Message* m = q_.dequeue();
        if (m != nullptr) {
            bytes_ -= frameSize(*m);
            counted(*m, -1);
            sentOff_ = 0;
        }
        return m;
    }

    /// The socket took `n` more bytes of the head frame (less than what is left of it).
    void advance(std::size_t n) noexcept { sentOff_ += n; }

    /// Everything queued, in order (the queue ends empty).
    [[nodiscard]] IntrusiveQueue<Message> takeAll() noexcept {
        IntrusiveQueue<Message> all;
        q_.move(all);
        bytes_ = 0;
        tally(-static_cast<std::ptrdiff_t>(pooled_));
        pooled_ = 0;
        sentOff_ = 0;
        return all;
    }

  private:
    [[nodiscard]] Message* position(const Message& m, bool byeWritten) const noexcept {
        Message* pos = q_.front();
        if (isByeResponse(m)) {
            if (byeWritten) {
                return pos;  // our bye is out (nothing is half-written then): the answer goes next
            }
            for (Message* q = pos; q != nullptr; q = MessageLinks::next(*q)) {
                if (isBye(*q) && q->bhdr.proto.role == MessageRole::request) {
                    return MessageLinks::next(*q);
                }
            }
            return nullptr;
        }
        if (m.bhdr.proto.oob == Oob::off) {
            return nullptr;
        }
        if (pos != nullptr && (sentOff_ > 0 || pos->bhdr.proto.mtype == MessageType::hello)) {
            pos = MessageLinks::next(*pos);
        }
        while (pos != nullptr && pos->bhdr.proto.oob == Oob::on) {
            pos = MessageLinks::next(*pos);
        }
        return pos;
    }

    /// Counts m (+1 in, -1 out) when it is the engine pool's.
    void counted(const Message& m, std::ptrdiff_t d) noexcept {
        if (pool_ != nullptr && pool_->core().owns(m)) {
            pooled_ = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(pooled_) + d);
            pool_->queued(d);
        }
    }
    void tally(std::ptrdiff_t d) noexcept {
        if (pool_ != nullptr) {
            pool_->queued(d);
        }
    }

    PoolBatches* pool_;
    IntrusiveQueue<Message> q_;
    std::size_t pooled_ = 0;  // frames of the engine pool's messages
    std::size_t sentOff_ = 0;
    std::size_t bytes_ = 0;  // whole frames queued, for the send-queue limit
};

}  // namespace tofu::detail
