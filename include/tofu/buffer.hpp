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
    explicit Buffer(std::pmr::memory_resource* mr = std::pmr::get_default_resource(),
                    std::size_t initialCapacity = 0);
    ~Buffer();
    Buffer(Buffer&& other) noexcept;
    Buffer& operator=(Buffer&& other) noexcept;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;

    [[nodiscard]] std::size_t size() const noexcept { return len_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return cap_; }
    [[nodiscard]] bool empty() const noexcept { return len_ == 0; }
    [[nodiscard]] std::uint8_t* data() noexcept { return data_; }
    [[nodiscard]] const std::uint8_t* data() const noexcept { return data_; }

    /// The bytes in use.
    [[nodiscard]] std::span<const std::uint8_t> body() const noexcept { return {data_, len_}; }
    [[nodiscard]] std::span<std::uint8_t> body() noexcept { return {data_, len_}; }
    [[nodiscard]] std::string_view view() const noexcept {
        return {reinterpret_cast<const char*>(data_), len_};
    }

    /// Ensures capacity() >= n, keeping the content.
    void reserve(std::size_t n);
    /// Sets size() to n, growing the capacity when needed; new bytes are not initialised.
    void resize(std::size_t n);
    void append(std::span<const std::uint8_t> bytes);
    void append(std::string_view text);
    /// Replaces the content.
    void assign(std::span<const std::uint8_t> bytes);
    void assign(std::string_view text);
    /// Empties the buffer, keeping its capacity.
    void reset() noexcept { len_ = 0; }
    /// Frees the allocation.
    void release() noexcept;

    [[nodiscard]] std::pmr::memory_resource* resource() const noexcept { return mr_; }

  private:
    void grow(std::size_t atLeast);

    std::pmr::memory_resource* mr_;
    std::uint8_t* data_ = nullptr;
    std::size_t len_ = 0;
    std::size_t cap_ = 0;
};

}  // namespace tofu
