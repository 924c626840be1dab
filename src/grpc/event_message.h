// The gRPC EventRequest (proto/gpsrelay/events/v1/events.proto) checked by
// the HTTP API's own rules: the message is turned into the JSON event text
// that POST /api/v1/events takes and events::parse_event reads that, so a
// rule or an error message exists once, and errors name fields by their
// JSON paths ("eventBody.entities[2].entityId").
//
// Pure: a message in, an Event or an EventError out. It owns no sockets
// and no threads, and any message (whatever its bytes) is safe input.
//
// What JSON cannot say the same way (events.proto documents it for
// clients):
//  - an empty string field is left out (proto3 cannot tell "" from unset):
//    "... is required";
//  - a NUL byte in a text field becomes U+0001 on the way: both are control
//    characters, which every text rule refuses, so the verdict and message
//    are HTTP's (the JSON the HTTP API reads cannot carry a NUL at all);
//  - updated_attributes: a Struct's numbers are doubles; integral ones up to
//    2^53 in magnitude become JSON integers, the rest reals; NaN,
//    infinities, a Value with no kind and NUL bytes in its strings or keys
//    are refused with their own message at
//    eventBody.entities[i].updatedAttributes (the error of the first field
//    in HTTP's order wins, as with parse_event alone); members are written
//    with sorted keys, as a map has no order;
//  - a Struct deeper than events::kMaxAttributesDepth is cut one level
//    below the limit, so parse_event refuses it with its own message and
//    the conversion's recursion stays bounded.
#pragma once

#include <string>
#include <vector>

#include "events/event_request.h"
#include "gpsrelay/events/v1/events.pb.h"

namespace gpsrelay::grpc_api {

// The event as JSON text, plus the refusals the conversion itself made:
// each stands at a field that `json` holds a placeholder for which
// parse_event refuses there (so the first error in HTTP's order still
// wins); its message replaces parse_event's.
struct EventJson {
  std::string json;
  std::vector<events::EventError> refusals;
};

EventJson event_json_of(const ::gpsrelay::events::v1::EventRequest& request);

// event_json_of, then events::parse_event with `limits`.
events::Parsed<events::Event> parse_event_request(
    const ::gpsrelay::events::v1::EventRequest& request, const events::EventLimits& limits);

}  // namespace gpsrelay::grpc_api
