#include "tofu/status.hpp"

#include <array>
#include <string>

namespace tofu {

namespace {

constexpr std::array<std::string_view, 33> Names = {
    "success",
    "not_implemented_yet",
    "wrong_configuration",
    "not_allowed",
    "null_message",
    "invalid_message",
    "invalid_message_type",
    "invalid_message_mode",
    "invalid_headers_len",
    "invalid_body_len",
    "invalid_more_usage",
    "invalid_channel_number",
    "invalid_mchn_group",
    "invalid_message_id",
    "invalid_address",
    "uds_path_not_found",
    "notification_disabled",
    "notification_failed",
    "peer_disconnected",
    "communication_failed",
    "pool_empty",
    "allocation_failed",
    "receiver_update",
    "channel_closed",
    "shutdown_started",
    "connect_failed",
    "listen_failed",
    "accept_failed",
    "send_failed",
    "recv_failed",
    "setsockopt_failed",
    "processing_failed",
    "unknown_error",
};

class TofuCategory final : public std::error_category {
  public:
    [[nodiscard]] const char* name() const noexcept override { return "tofu"; }
    [[nodiscard]] std::string message(int ev) const override {
        if (ev < 0 || ev > 255) {
            return "unknown_error";
        }
        return std::string(statusName(raw_to_status(static_cast<std::uint8_t>(ev))));
    }
};

}  // namespace

std::string_view statusName(AmpeStatus st) noexcept {
    const auto i = static_cast<std::size_t>(st);
    return i < Names.size() ? Names[i] : Names.back();
}

const std::error_category& tofu_category() noexcept {
    static const TofuCategory category;
    return category;
}

std::error_code make_error_code(AmpeStatus st) noexcept {
    return {static_cast<int>(st), tofu_category()};
}

AmpeError::AmpeError(AmpeStatus st) : std::system_error(make_error_code(st)) {}

AmpeError::AmpeError(AmpeStatus st, const std::string& what) : std::system_error(make_error_code(st), what) {}

void raw_to_error(std::uint8_t rs) {
    if (rs != 0) {
        throw AmpeError(raw_to_status(rs));
    }
}

void status_to_error(AmpeStatus st) {
    if (st != AmpeStatus::success) {
        throw AmpeError(st);
    }
}

}  // namespace tofu
