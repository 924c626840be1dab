// The module-facing HTTP types (see request_handler.h).
#include "http/request_handler.h"

#include <utility>

#include "core/callback_guard.h"

namespace gpsrelay::http {

HeldRequest::HeldRequest(HeldRequest&& other) noexcept
    : owner_(other.owner_),
      request_(std::exchange(other.request_, nullptr)),
      request_id_(std::move(other.request_id_)),
      started_(other.started_) {}

HeldRequest& HeldRequest::operator=(HeldRequest&& other) noexcept {
  if (this != &other) {
    if (request_ != nullptr) reply_error(500, "internal error");
    owner_ = other.owner_;
    request_ = std::exchange(other.request_, nullptr);
    request_id_ = std::move(other.request_id_);
    started_ = other.started_;
  }
  return *this;
}

HeldRequest::~HeldRequest() {
  // A path that forgot to answer must not leave the client waiting.
  if (request_ != nullptr)
    core::guarded("held request", [&] { reply_error(500, "internal error"); });
}

void HeldRequest::reply(int status, std::string_view body, const char* content_type) {
  if (request_ == nullptr) return;
  void* request = std::exchange(request_, nullptr);
  owner_->answer(request, status, body, content_type, request_id_, started_);
}

void HeldRequest::reply_error(int status, std::string_view message) {
  if (request_ == nullptr) return;
  void* request = std::exchange(request_, nullptr);
  owner_->answer_error(request, status, message, request_id_, started_);
}

}  // namespace gpsrelay::http
