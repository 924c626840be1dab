// The location normaliser: every device format the contract accepts
// ("Locations": the driver endpoint, OsmAnd parameters, Traccar Client JSON,
// OwnTracks HTTP mode, and locations inside raw /api/gps/reports bodies)
// turned into LocationRecords, or an error that names the field as the
// device spelt it, fit for a 400 body.
//
// Pure: bytes and a `now_ms` in, values out. It owns no I/O, no HTTP types
// (the handler passes the query string, body and header text it has), does
// not bound input sizes (the HTTP layer does) and does not decide what a
// record does next. Any byte sequence is safe input.
//
// Rules shared by every format:
//  - numbers must be finite; JSON may carry them as numbers or as strings
//    holding one number (some clients quote everything);
//  - |latitude| <= 90, |longitude| <= 180, heading 0-360, speed, accuracy,
//    altitude and battery within the bounds in location_record.h;
//  - driver and order ids follow is_valid_id (1-128 of A-Z a-z 0-9 - . _ ~);
//    JSON ids may be strings or integers;
//  - a timestamp is ISO 8601 (YYYY-MM-DD, 'T' or ' ', HH:MM[:SS[.frac]],
//    then Z, +HH:MM, +HHMM, +HH or nothing for UTC) or a Unix time: below
//    1e11 seconds (possibly fractional), else milliseconds (the two never
//    overlap between 2000 and 5138). It must lie between 2000-01-01 and a
//    day after `now_ms`. Absent, it is `now_ms`;
//  - the device protocols (OsmAnd, Traccar Client JSON, OwnTracks) report
//    "unknown" as a negative speed, heading, accuracy or battery (iOS's
//    CoreLocation gives -1): those fields are left out, not refused. Our
//    own driver endpoint refuses them;
//  - a batch is all or nothing: one bad element refuses the request, with
//    the element's index in the message.
//
// Implemented one file per format (driver_location.cc, osmand.cc,
// traccar.cc, owntracks.cc, raw_report.cc), each mapping its fields onto
// the RecordBuilder in record_builder.h, which owns every value check and
// error message; timestamp.cc and url_params.cc hold parse_timestamp_text
// and percent_decode.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "locations/location_record.h"

namespace gpsrelay::locations {

enum class ParseStatus : std::uint8_t {
  kOk,            // records holds what was found (possibly none: ignored OwnTracks types)
  kInvalid,       // error names the field; answer 400 where there is someone to answer
  kNotALocation,  // well-formed input that carries no position (count it, not an error)
};

struct ParseResult {
  ParseStatus status = ParseStatus::kNotALocation;
  std::vector<LocationRecord> records;  // empty unless kOk
  std::string error;                    // set for kInvalid only

  bool ok() const { return status == ParseStatus::kOk; }
};

// POST /api/v1/drivers/{driver_id}/location. `driver_id` is the path
// parameter as captured (still percent-encoded); `body` is
// {"latitude","longitude","speed","heading","accuracy","altitude",
// "order_id","timestamp"} with latitude and longitude required, speed in
// km/h. One record or kInvalid; never kNotALocation.
ParseResult parse_driver_location(std::string_view driver_id, std::string_view body,
                                  std::int64_t now_ms);

// OsmAnd protocol parameters: a query string (without '?') or an
// application/x-www-form-urlencoded body. id/deviceid, lat, lon (or
// location=lat,lon), timestamp, speed (knots), bearing/heading, altitude,
// accuracy (else hdop), batt; other parameters are ignored, and a
// parameter given twice counts as given last (as Traccar does). An id
// without lat/lon (a heartbeat) is kNotALocation; no id is kInvalid.
ParseResult parse_osmand_params(std::string_view params, std::int64_t now_ms);

// Traccar Client's JSON body: {"device_id", "location": {"timestamp",
// "coords": {"latitude","longitude","speed" (m/s),"heading","accuracy",
// "altitude"}, "battery": {"level" (0-1)}}}. "location" may be an array
// (the SDK's batch sync), and the body may be an array of such objects.
ParseResult parse_traccar_json(std::string_view body, std::int64_t now_ms);

// Everything the OsmAnd endpoints accept (/api/v1/osmand and the root of
// osmand_listen): the query string's parameters when it has any, else a
// JSON body (first non-blank byte '{' or '[') as Traccar Client JSON, else
// the body as form parameters.
ParseResult parse_osmand_request(std::string_view query, std::string_view body,
                                 std::int64_t now_ms);

// OwnTracks HTTP mode: one message object or an array of them. Only
// _type "location" yields records (lat, lon, tst, vel km/h, cog, acc, alt,
// batt); other types are skipped. The driver id is `device_header` (the
// X-Limit-D header; empty when absent), else the last segment of the
// message's "topic" (owntracks/user/device).
ParseResult parse_owntracks(std::string_view body, std::string_view device_header,
                            std::int64_t now_ms);

// A location taken from a raw /api/gps/reports body, which was accepted
// byte-exact and may be anything. Recognised shapes, per object (a
// top-level array is looked at element by element, non-locations skipped):
// OwnTracks (has "_type"; a location needs a "topic"), Traccar Client JSON
// (has "location"), and flat keys: device_id/driver_id/id, lat/latitude,
// lon/lng/longitude, ts/timestamp, speed (km/h), heading/bearing/course,
// accuracy, altitude, order_id, battery/batt. kNotALocation when no
// coordinates are present anywhere (not JSON at all included); kInvalid
// when a shape matched but a value is wrong (the caller counts it; there is
// nobody to answer).
ParseResult extract_report_location(std::string_view body, std::int64_t now_ms);

// Decodes %XX escapes (and '+' as a space when `plus_is_space`, as in
// query strings and forms). nullopt for a '%' not followed by two hex
// digits.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// Unix milliseconds for a timestamp text as described above (ISO 8601 or
// Unix s/ms), without the range check; nullopt when it is neither.
std::optional<std::int64_t> parse_timestamp_text(std::string_view text);

}  // namespace gpsrelay::locations
