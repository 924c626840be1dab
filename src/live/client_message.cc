// Subscriber messages (see client_message.h).
#include "live/client_message.h"

#include <jansson.h>

#include <memory>
#include <optional>

#include "live/pubsub_message.h"
#include "locations/location_record.h"

namespace gpsrelay::live {
namespace {

struct JsonDeleter {
  void operator()(json_t* json) const { json_decref(json); }
};

// The id under `key`: empty when absent, nullopt when it is not an id.
std::optional<std::string> id_of(const json_t* message, const char* key) {
  const json_t* value = json_object_get(message, key);
  if (value == nullptr) return std::string();
  std::string id;
  if (json_is_string(value)) {
    id.assign(json_string_value(value), json_string_length(value));
  } else if (json_is_integer(value) && json_integer_value(value) >= 0) {
    id = std::to_string(json_integer_value(value));
  }
  if (!locations::is_valid_id(id)) return std::nullopt;
  return id;
}

std::string invalid_id(std::string_view key) {
  return std::string(key) + " must be 1 to 128 characters of A-Z a-z 0-9 - . _ ~";
}

}  // namespace

std::variant<ClientMessage, std::string> parse_client_message(std::string_view text) {
  json_error_t error;
  const std::unique_ptr<json_t, JsonDeleter> message(
      json_loadb(text.data(), text.size(), JSON_REJECT_DUPLICATES, &error));
  if (!message || !json_is_object(message.get())) {
    return std::string("expected a JSON object");
  }
  const json_t* action = json_object_get(message.get(), "action");
  const char* name = json_is_string(action) ? json_string_value(action) : "";
  ClientMessage parsed{};
  if (std::string_view(name) == "subscribe") {
    parsed.action = ClientMessage::Action::kSubscribe;
  } else if (std::string_view(name) == "unsubscribe") {
    parsed.action = ClientMessage::Action::kUnsubscribe;
  } else {
    return std::string("action must be \"subscribe\" or \"unsubscribe\"");
  }
  const std::optional<std::string> driver_id = id_of(message.get(), "driver_id");
  if (!driver_id) return invalid_id("driver_id");
  const std::optional<std::string> order_id = id_of(message.get(), "order_id");
  if (!order_id) return invalid_id("order_id");
  if (driver_id->empty() == order_id->empty()) {
    return std::string("give exactly one of driver_id and order_id");
  }
  parsed.channel = driver_id->empty() ? order_channel(*order_id) : driver_channel(*driver_id);
  return parsed;
}

}  // namespace gpsrelay::live
