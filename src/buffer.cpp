#include "tofu/buffer.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

namespace tofu {

Buffer::Buffer(std::pmr::memory_resource* mr, std::size_t initialCapacity)
    : mr_(mr != nullptr ? mr : std::pmr::get_default_resource()) {
    if (initialCapacity > 0) {
        reserve(initialCapacity);
    }
}

Buffer::~Buffer() {
    release();
}

Buffer::Buffer(Buffer&& other) noexcept
    : mr_(other.mr_),
      data_(std::exchange(other.data_, nullptr)),
      len_(std::exchange(other.len_, 0)),
      cap_(std::exchange(other.cap_, 0)) {}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
    if (this != &other) {
        release();
        mr_ = other.mr_;
        data_ = std::exchange(other.data_, nullptr);
        len_ = std::exchange(other.len_, 0);
        cap_ = std::exchange(other.cap_, 0);
    }
    return *this;
}

void Buffer::release() noexcept {
    if (data_ != nullptr) {
        mr_->deallocate(data_, cap_, 1);
    }
    data_ = nullptr;
    len_ = 0;
    cap_ = 0;
}

void Buffer::grow(std::size_t atLeast) {
    constexpr std::size_t MinCapacity = 64;  // no run of tiny reallocations from an empty buffer
    const std::size_t newCap = std::max({atLeast, cap_ + cap_ / 2, MinCapacity});
    auto* fresh = static_cast<std::uint8_t*>(mr_->allocate(newCap, 1));
    if (len_ > 0) {
        std::memcpy(fresh, data_, len_);
    }
    if (data_ != nullptr) {
        mr_->deallocate(data_, cap_, 1);
    }
    data_ = fresh;
    cap_ = newCap;
}

void Buffer::reserve(std::size_t n) {
    if (n > cap_) {
        grow(n);
    }
}

void Buffer::resize(std::size_t n) {
    reserve(n);
    len_ = n;
}

void Buffer::append(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) {
        return;
    }
    // The bytes may be this buffer's own (b.append(b.view())): find them again after a reallocation,
    // and copy with memmove (assign of a part of itself overlaps).
    const auto src = reinterpret_cast<std::uintptr_t>(bytes.data());
    const auto base = reinterpret_cast<std::uintptr_t>(data_);
    const bool own = data_ != nullptr && src >= base && src < base + cap_;
    const std::size_t offset = own ? static_cast<std::size_t>(src - base) : 0;
    reserve(len_ + bytes.size());
    const std::uint8_t* from = own ? data_ + offset : bytes.data();
    std::memmove(data_ + len_, from, bytes.size());
    len_ += bytes.size();
}

void Buffer::append(std::string_view text) {
    append(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

void Buffer::assign(std::span<const std::uint8_t> bytes) {
    len_ = 0;
    append(bytes);
}

void Buffer::assign(std::string_view text) {
    len_ = 0;
    append(text);
}

}  // namespace tofu
