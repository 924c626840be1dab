// HTTP clients: libcurl easy and multi handles behind RAII owners, plus a raw
// TCP connection for malformed traffic.
#include "support/http_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <memory>
#include <stdexcept>
#include <system_error>

#include "support/eventually.h"
#include "support/header_text.h"

namespace gpsrelay::testing {
namespace {

struct CurlEasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
using CurlEasyPtr = std::unique_ptr<CURL, CurlEasyDeleter>;

struct CurlMultiDeleter {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
using CurlMultiPtr = std::unique_ptr<CURLM, CurlMultiDeleter>;

struct CurlSlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlSlistPtr = std::unique_ptr<curl_slist, CurlSlistDeleter>;

// curl_global_init is not thread-safe in every libcurl build; run it once,
// before the first handle, from whichever thread gets there first.
void ensure_curl_initialized() {
  static const CURLcode result = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (result != CURLE_OK) throw std::runtime_error("curl_global_init failed");
}

template <typename T>
void set_option(CURL* easy, CURLoption option, T value) {
  const CURLcode result = curl_easy_setopt(easy, option, value);
  if (result != CURLE_OK) {
    throw std::runtime_error(std::string("curl_easy_setopt: ") + curl_easy_strerror(result));
  }
}

template <typename T>
void set_multi_option(CURLM* multi, CURLMoption option, T value) {
  const CURLMcode result = curl_multi_setopt(multi, option, value);
  if (result != CURLM_OK) {
    throw std::runtime_error(std::string("curl_multi_setopt: ") + curl_multi_strerror(result));
  }
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  static_cast<HttpResponse*>(user)->body.append(data, size * count);
  return size * count;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<HttpResponse*>(user);
  const std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    // A new status line (after "100 Continue"): only the final headers count.
    response->headers.clear();
  } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
    const std::string name = lower(trim(line.substr(0, colon)));
    const std::string value(trim(line.substr(colon + 1)));
    auto [it, inserted] = response->headers.emplace(name, value);
    if (!inserted) it->second += ", " + value;  // repeated header: RFC 9110 list form
  }
  return size * count;
}

// One request's handle and buffers; they must outlive the transfer.
struct Transfer {
  CurlEasyPtr easy;
  CurlSlistPtr headers;
  std::string body;
  HttpResponse response;
  Clock::time_point started;
  size_t index = 0;
  char error[CURL_ERROR_SIZE] = {};
};

std::unique_ptr<Transfer> make_transfer(const HttpRequest& request, size_t index) {
  ensure_curl_initialized();
  auto transfer = std::make_unique<Transfer>();
  transfer->index = index;
  transfer->body = request.body;
  transfer->easy.reset(curl_easy_init());
  if (!transfer->easy) throw std::runtime_error("curl_easy_init failed");
  CURL* easy = transfer->easy.get();

  set_option(easy, CURLOPT_URL, request.url.c_str());
  set_option(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  // https:// verifies the chain against this CA (and the host name) only.
  if (!request.ca_file.empty()) set_option(easy, CURLOPT_CAINFO, request.ca_file.c_str());
  // Never through a proxy from the environment: the tests talk to loopback.
  set_option(easy, CURLOPT_PROXY, "");
  set_option(easy, CURLOPT_NOPROXY, "*");
  set_option(easy, CURLOPT_NOSIGNAL, 1L);
  set_option(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  set_option(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  set_option(easy, CURLOPT_CONNECTTIMEOUT_MS,
             static_cast<long>(std::min<std::int64_t>(request.timeout.count(), 5000)));
  set_option(easy, CURLOPT_ERRORBUFFER, transfer->error);
  set_option(easy, CURLOPT_WRITEFUNCTION, on_body);
  set_option(easy, CURLOPT_WRITEDATA, &transfer->response);
  set_option(easy, CURLOPT_HEADERFUNCTION, on_header);
  set_option(easy, CURLOPT_HEADERDATA, &transfer->response);
  set_option(easy, CURLOPT_PRIVATE, static_cast<void*>(transfer.get()));
  if (!request.local_address.empty()) {
    set_option(easy, CURLOPT_INTERFACE, ("host!" + request.local_address).c_str());
  }

  if (request.method == "GET") {
    set_option(easy, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    set_option(easy, CURLOPT_NOBODY, 1L);
  } else {
    // POSTFIELDS with an explicit size: binary-safe, and an empty body is
    // sent as "Content-Length: 0" rather than omitted.
    set_option(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(transfer->body.size()));
    set_option(easy, CURLOPT_POSTFIELDS, transfer->body.data());
    if (request.method != "POST") set_option(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  const bool sets_expect =
      std::any_of(request.headers.begin(), request.headers.end(),
                  [](const std::string& h) { return lower(h).starts_with("expect:"); });
  HeaderList lines = request.headers;
  // curl would wait for "100 Continue" before large bodies; the tests want
  // the body sent as a device would send it.
  if (!sets_expect) lines.push_back("Expect:");
  for (const auto& line : lines) {
    curl_slist* extended = curl_slist_append(transfer->headers.get(), line.c_str());
    if (extended == nullptr) throw std::runtime_error("curl_slist_append failed");
    // curl_slist_append returns the list's head, which is the old head
    // unless the list was empty: hand ownership over without freeing.
    static_cast<void>(transfer->headers.release());
    transfer->headers.reset(extended);
  }
  set_option(easy, CURLOPT_HTTPHEADER, transfer->headers.get());
  transfer->started = Clock::now();
  return transfer;
}

void finish_transfer(Transfer& transfer, CURLcode result) {
  transfer.response.elapsed = elapsed_since(transfer.started);
  if (result == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(transfer.easy.get(), CURLINFO_RESPONSE_CODE, &status);
    transfer.response.status = status;
  } else {
    transfer.response.error = transfer.error[0] != '\0' ? std::string(transfer.error)
                                                        : std::string(curl_easy_strerror(result));
  }
}

// A curl multi handle and the transfers added to it. The destructor removes
// every handle from the multi before either is cleaned up, the order libcurl
// requires.
class MultiSession {
 public:
  explicit MultiSession(size_t max_connections) : multi_(curl_multi_init()) {
    if (!multi_) throw std::runtime_error("curl_multi_init failed");
    set_multi_option(multi_.get(), CURLMOPT_MAX_TOTAL_CONNECTIONS,
                     static_cast<long>(max_connections));
    set_multi_option(multi_.get(), CURLMOPT_MAXCONNECTS, static_cast<long>(max_connections));
  }
  ~MultiSession() {
    for (auto& [easy, transfer] : active_) curl_multi_remove_handle(multi_.get(), easy);
  }
  MultiSession(const MultiSession&) = delete;
  MultiSession& operator=(const MultiSession&) = delete;

  size_t in_flight() const { return active_.size(); }

  void add(std::unique_ptr<Transfer> transfer) {
    CURL* easy = transfer->easy.get();
    transfer->started = Clock::now();
    const CURLMcode result = curl_multi_add_handle(multi_.get(), easy);
    if (result != CURLM_OK) {
      throw std::runtime_error(std::string("curl_multi_add_handle: ") +
                               curl_multi_strerror(result));
    }
    active_.emplace(easy, std::move(transfer));
  }

  // Drives the transfers for up to `wait` and returns those that finished.
  std::vector<std::unique_ptr<Transfer>> step(std::chrono::milliseconds wait) {
    int running = 0;
    curl_multi_perform(multi_.get(), &running);
    std::vector<std::unique_ptr<Transfer>> done = collect();
    if (done.empty() && !active_.empty()) {
      curl_multi_poll(multi_.get(), nullptr, 0, static_cast<int>(wait.count()), nullptr);
      curl_multi_perform(multi_.get(), &running);
      done = collect();
    }
    return done;
  }

  // Removes every unfinished transfer, marking it with `reason`.
  std::vector<std::unique_ptr<Transfer>> abort_all(const std::string& reason) {
    std::vector<std::unique_ptr<Transfer>> aborted;
    for (auto& [easy, transfer] : active_) {
      curl_multi_remove_handle(multi_.get(), easy);
      transfer->response.elapsed = elapsed_since(transfer->started);
      transfer->response.error = reason;
      aborted.push_back(std::move(transfer));
    }
    active_.clear();
    return aborted;
  }

 private:
  std::vector<std::unique_ptr<Transfer>> collect() {
    std::vector<std::unique_ptr<Transfer>> done;
    int remaining = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_.get(), &remaining)) {
      if (message->msg != CURLMSG_DONE) continue;
      auto it = active_.find(message->easy_handle);
      if (it == active_.end()) continue;
      const CURLcode result = message->data.result;
      curl_multi_remove_handle(multi_.get(), it->first);
      finish_transfer(*it->second, result);
      done.push_back(std::move(it->second));
      active_.erase(it);
    }
    return done;
  }

  CurlMultiPtr multi_;
  std::map<CURL*, std::unique_ptr<Transfer>> active_;
};

std::string report_body(size_t sequence) {
  return R"({"seq":)" + std::to_string(sequence) +
         R"(,"device":"load-generator","lat":52.520008,"lon":13.404954})";
}

}  // namespace

std::string HttpResponse::header(std::string_view name) const {
  const auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

bool HttpResponse::has_header(std::string_view name) const { return headers.contains(lower(name)); }

std::ostream& operator<<(std::ostream& out, const HttpResponse& response) {
  out << "HTTP " << response.status << " (" << response.elapsed.count() << " ms)";
  if (!response.error.empty()) out << " transport error: " << response.error;
  for (const auto& [name, value] : response.headers) out << "\n  " << name << ": " << value;
  constexpr size_t kShown = 2000;
  out << "\n  body: " << response.body.substr(0, kShown);
  if (response.body.size() > kShown) out << "... (" << response.body.size() << " bytes)";
  return out;
}

HttpResponse http_request(const HttpRequest& request) {
  const std::unique_ptr<Transfer> transfer = make_transfer(request, 0);
  const CURLcode result = curl_easy_perform(transfer->easy.get());
  finish_transfer(*transfer, result);
  return std::move(transfer->response);
}

HttpRequest make_post(std::string url, std::string body, HeaderList headers) {
  HttpRequest request;
  request.method = "POST";
  request.url = std::move(url);
  request.body = std::move(body);
  request.headers = std::move(headers);
  return request;
}

HttpResponse http_request(std::string method, std::string url, std::string body, HeaderList headers,
                          std::chrono::milliseconds timeout) {
  HttpRequest request = make_post(std::move(url), std::move(body), std::move(headers));
  request.method = std::move(method);
  request.timeout = timeout;
  return http_request(request);
}

HttpResponse http_get(std::string url, std::chrono::milliseconds timeout) {
  return http_request("GET", std::move(url), {}, {}, timeout);
}

std::vector<HttpResponse> http_concurrently(const std::vector<HttpRequest>& requests,
                                            size_t max_connections,
                                            std::chrono::milliseconds overall_timeout) {
  ensure_curl_initialized();
  max_connections = std::max<size_t>(max_connections, 1);
  std::vector<HttpResponse> responses(requests.size());
  MultiSession session(max_connections);
  const Deadline deadline(overall_timeout);
  size_t next = 0;
  while (next < requests.size() || session.in_flight() > 0) {
    while (next < requests.size() && session.in_flight() < max_connections) {
      session.add(make_transfer(requests[next], next));
      ++next;
    }
    for (auto& transfer : session.step(std::chrono::milliseconds(100))) {
      responses[transfer->index] = std::move(transfer->response);
    }
    if (deadline.expired()) {
      for (auto& transfer : session.abort_all("overall timeout")) {
        responses[transfer->index] = std::move(transfer->response);
      }
      for (; next < requests.size(); ++next) responses[next].error = "not started: overall timeout";
    }
  }
  return responses;
}

std::vector<HttpResponse> http_post_concurrently(const std::string& url,
                                                 const std::vector<std::string>& bodies,
                                                 size_t max_connections, const HeaderList& headers,
                                                 std::chrono::milliseconds overall_timeout) {
  std::vector<HttpRequest> requests;
  requests.reserve(bodies.size());
  for (const auto& body : bodies) requests.push_back(make_post(url, body, headers));
  return http_concurrently(requests, max_connections, overall_timeout);
}

LoadGenerator::LoadGenerator(std::string url, size_t connections, HeaderList headers,
                             BodyMaker make_body)
    : url_(std::move(url)),
      connections_(std::max<size_t>(connections, 1)),
      headers_(std::move(headers)),
      make_body_(make_body ? std::move(make_body) : BodyMaker(report_body)) {
  ensure_curl_initialized();
  thread_ = std::thread([this] { run(); });
}

LoadGenerator::~LoadGenerator() { stop(); }

void LoadGenerator::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

std::vector<HttpResponse> LoadGenerator::results() const {
  std::lock_guard lock(mutex_);
  return results_;
}

void LoadGenerator::run() {
  MultiSession session(connections_);
  size_t sequence = 0;
  size_t failures_in_a_row = 0;
  auto record = [&](std::vector<std::unique_ptr<Transfer>> finished) {
    std::lock_guard lock(mutex_);
    for (auto& transfer : finished) {
      const bool transport_error = !transfer->response.error.empty();
      failures_in_a_row = transport_error ? failures_in_a_row + 1 : 0;
      if (transfer->response.status == 200) ++ok_count_;
      ++finished_count_;
      results_.push_back(std::move(transfer->response));
    }
  };
  while (!stopping_) {
    while (session.in_flight() < connections_ && failures_in_a_row < 20) {
      session.add(make_transfer(make_post(url_, make_body_(sequence++), headers_), 0));
    }
    if (session.in_flight() == 0) {
      // Gave up after repeated transport errors: idle until stop() rather
      // than spin.
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    record(session.step(std::chrono::milliseconds(50)));
  }
  record(session.abort_all("aborted by LoadGenerator::stop"));
}

HttpResponse parse_http_response(std::string_view raw) {
  HttpResponse response;
  const auto end_of_headers = raw.find("\r\n\r\n");
  const std::string_view head = raw.substr(0, end_of_headers);
  if (!head.starts_with("HTTP/1.")) return response;
  const auto first_space = head.find(' ');
  if (first_space == std::string_view::npos) return response;
  try {
    response.status = std::stol(std::string(head.substr(first_space + 1, 3)));
  } catch (const std::exception&) {
    return response;
  }
  size_t line_start = head.find("\r\n");
  while (line_start != std::string_view::npos) {
    line_start += 2;
    const size_t line_end = head.find("\r\n", line_start);
    const std::string_view line = head.substr(line_start, line_end - line_start);
    if (const auto colon = line.find(':'); colon != std::string_view::npos) {
      response.headers[lower(trim(line.substr(0, colon)))] =
          std::string(trim(line.substr(colon + 1)));
    }
    line_start = line_end;
  }
  if (end_of_headers != std::string_view::npos) response.body = raw.substr(end_of_headers + 4);
  return response;
}

RawConnection::RawConnection(int port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
  if (!fd_.valid()) throw std::system_error(errno, std::generic_category(), "socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    throw std::system_error(errno, std::generic_category(),
                            "connect 127.0.0.1:" + std::to_string(port));
  }
}

bool RawConnection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    // MSG_NOSIGNAL: a server that hung up must fail the send, not kill the
    // test binary with SIGPIPE.
    const ssize_t sent = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      peer_closed_ = true;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(sent));
  }
  return true;
}

namespace {

// True when `data` holds a complete response: headers plus Content-Length
// bytes of body (or no Content-Length, in which case the header block is
// taken as all there is unless the peer keeps sending).
bool response_complete(const std::string& data) {
  const auto end_of_headers = data.find("\r\n\r\n");
  if (end_of_headers == std::string::npos) return false;
  const std::string head = lower(std::string_view(data).substr(0, end_of_headers));
  const auto field = head.find("\r\ncontent-length:");
  if (field == std::string::npos) return true;
  try {
    const size_t length = std::stoul(head.substr(field + 17));
    return data.size() >= end_of_headers + 4 + length;
  } catch (const std::exception&) {
    return true;  // unparsable length: hand back what arrived
  }
}

}  // namespace

std::string RawConnection::read_response(std::chrono::milliseconds timeout) {
  std::string data;
  const Deadline deadline(timeout);
  char buffer[16 * 1024];
  while (!response_complete(data) && !deadline.expired()) {
    pollfd entry{fd_.get(), POLLIN, 0};
    const int ready = ::poll(&entry, 1, static_cast<int>(deadline.remaining().count()));
    if (ready <= 0) continue;
    const ssize_t got = ::recv(fd_.get(), buffer, sizeof(buffer), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      peer_closed_ = true;
      break;
    }
    data.append(buffer, static_cast<size_t>(got));
  }
  return data;
}

bool RawConnection::wait_for_peer_close(std::chrono::milliseconds timeout) {
  const Deadline deadline(timeout);
  char buffer[4096];
  while (!peer_closed_ && !deadline.expired()) {
    pollfd entry{fd_.get(), POLLIN, 0};
    if (::poll(&entry, 1, static_cast<int>(deadline.remaining().count())) <= 0) continue;
    const ssize_t got = ::recv(fd_.get(), buffer, sizeof(buffer), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) peer_closed_ = true;
  }
  return peer_closed_;
}

void RawConnection::reset() {
  if (!fd_.valid()) return;
  const linger abort_on_close{1, 0};
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
  fd_.reset();
}

}  // namespace gpsrelay::testing
