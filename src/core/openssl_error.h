// The reason behind a failed OpenSSL call, as text for an error message.
//
// OpenSSL reports failures on a per-thread error queue rather than through
// return values. This owns turning that queue into one line and emptying it,
// so a stale entry cannot later be blamed on an unrelated call. It does not
// decide whether a call failed; callers check return values first.
#pragma once

#include <string>

namespace gpsrelay::core {

// Every error on this thread's OpenSSL queue, oldest first, joined with
// "; ", e.g. "error:0480006C:PEM routines::no start line". Leaves the queue
// empty. "unknown OpenSSL error" when the queue was already empty.
std::string drain_openssl_errors();

}  // namespace gpsrelay::core
