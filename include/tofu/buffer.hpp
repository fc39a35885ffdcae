// tofu: the growable byte buffer behind a message's text headers and body (the original's Appendable).
#pragma once

#include "tofu/export.hpp"

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <span>
#include <string_view>

namespace tofu {

/// A move-only growable byte buffer allocated from a std::pmr::memory_resource.
/// size() is the number of bytes in use; capacity() what is allocated. Growth never zero-fills.
class TOFU_API Buffer {
  public:
    /// An empty buffer allocating from mr (nullptr: the default resource), initialCapacity reserved.
    explicit Buffer(std::pmr::memory_resource* mr = std::pmr::get_default_resource(),
                    std::size_t initialCapacity = 0);
    ~Buffer();
    /// Takes over other's allocation; other is left empty.
    Buffer(Buffer&& other) noexcept;
    /// Frees the current allocation and takes over other's; other is left empty.
    Buffer& operator=(Buffer&& other) noexcept;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;

    /// Number of bytes in use.
    [[nodiscard]] std::size_t size() const noexcept { return len_; }
    /// Number of bytes allocated.
    [[nodiscard]] std::size_t capacity() const noexcept { return cap_; }
    /// True when no bytes are in use.
    [[nodiscard]] bool empty() const noexcept { return len_ == 0; }
    /// Start of the bytes (nullptr before the first allocation).
    [[nodiscard]] std::uint8_t* data() noexcept { return data_; }
    /// Start of the bytes (nullptr before the first allocation).
    [[nodiscard]] const std::uint8_t* data() const noexcept { return data_; }

    /// The bytes in use.
    [[nodiscard]] std::span<const std::uint8_t> body() const noexcept { return {data_, len_}; }
    /// The bytes in use, writable.
    [[nodiscard]] std::span<std::uint8_t> body() noexcept { return {data_, len_}; }
    /// The bytes in use, as text.
    [[nodiscard]] std::string_view view() const noexcept {
        return {reinterpret_cast<const char*>(data_), len_};
    }

    /// Ensures capacity() >= n, keeping the content.
    void reserve(std::size_t n);
    /// Sets size() to n, growing the capacity when needed; new bytes are not initialised.
    void resize(std::size_t n);
    /// Adds bytes at the end, growing the capacity when needed.
    void append(std::span<const std::uint8_t> bytes);
    /// Adds the characters of text at the end, growing the capacity when needed.
    void append(std::string_view text);
    /// Replaces the content.
    void assign(std::span<const std::uint8_t> bytes);
    /// Replaces the content with the characters of text.
    void assign(std::string_view text);
    /// Empties the buffer, keeping its capacity.
    void reset() noexcept { len_ = 0; }
    /// Frees the allocation.
    void release() noexcept;

    /// The memory resource the bytes come from.
    [[nodiscard]] std::pmr::memory_resource* resource() const noexcept { return mr_; }

  private:
    void grow(std::size_t atLeast);

    std::pmr::memory_resource* mr_;
    std::uint8_t* data_ = nullptr;
    std::size_t len_ = 0;
    std::size_t cap_ = 0;
};

}  // namespace tofu
