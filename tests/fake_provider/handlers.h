// Request handling of the fake provider, independent of the socket code in main.cc: faults,
// the control state, and the replies of each provider protocol.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace on::fake {

struct Request {
  std::string method;
  std::string target;  // path and query as sent
  std::string path;
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;

  std::string Header(const std::string& name) const;
};

// A misbehaviour applied to one request. README.md lists the spellings ParseFault accepts.
struct Fault {
  enum class Kind {
    kStatus,         // an error status with the protocol's error body
    kRateLimit,      // 429 with Retry-After
    kReset,          // the connection is reset after the request is read
    kSlow,           // tokens (or the whole answer) arrive one every interval
    kTimeout,        // the request is read and never answered
    kStall,          // a stream sends `tokens` pieces, then goes silent without closing
    kCut,            // a stream sends `tokens` pieces, then the connection is reset
    kContextLength,  // the protocol's context-length error
    kEmptyAnswer,    // a well-formed answer with empty text
    kMalformedJson,  // a 200 whose JSON is cut off
    kEmptyBody,      // a 200 with no body at all
  };
  Kind kind = Kind::kStatus;
  std::string spec;  // as written, for the request log
  int status = 500;
  int retry_after_s = 1;
  std::chrono::milliseconds interval{0};
  int tokens = 0;
};

// Parses "rate_limit=1", "slow=200,20", "server_error" and the other spellings in README.md.
std::optional<Fault> ParseFault(std::string_view spec);

// What the socket code sends back.
struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // A streamed reply sends `frames` one by one with chunked encoding, sleeping `interval`
  // before each frame; with stall_after set it stops after that many frames and keeps the
  // connection open without sending anything more.
  bool streamed = false;
  std::vector<std::string> frames;
  std::chrono::milliseconds interval{0};
  std::optional<std::size_t> stall_after;
  bool reset_at_stall = false;  // reset the connection where the stream stalls instead of waiting

  std::chrono::milliseconds delay{0};  // wait before the status line
  bool reset = false;                  // reset the connection instead of answering
  bool never_answer = false;           // keep the connection open and send nothing
};

struct Options {
  std::string api_key;             // empty: no key check
  std::size_t embed_max_batch = 0;  // 0: unlimited inputs per embedding request
  std::size_t embed_max_words = 0;  // 0: unlimited words per embedding input
  std::size_t context_words = 0;    // 0: unlimited words per chat request
  std::size_t answer_max_words = 0;  // 0: chat replies keep all their words
};

// Faults scripted through /control/script and the log of requests, shared by all connections.
class ControlState {
 public:
  // Appends faults for the next requests to `path` ("*" matches every path).
  void Script(const std::string& path, std::vector<Fault> faults);
  // Removes and returns the next scripted fault for `path`, or nullopt.
  std::optional<Fault> NextScripted(const std::string& path);
  void Record(const Request& request, const std::string& model, const std::string& fault, int status);
  nlohmann::json Requests() const;
  void Reset();
  // With recording on, Record adds the chat messages of a request to its log entry.
  void set_record_messages(bool record) { record_messages_ = record; }

 private:
  bool record_messages_ = false;  // set before the server starts
  mutable std::mutex mutex_;
  std::map<std::string, std::deque<Fault>> scripts_;
  std::vector<nlohmann::json> log_;
  std::map<std::string, int> counts_;
};

// Handles one request: control endpoints, the API-key check, faults and the protocol replies.
Reply HandleRequest(const Request& request, const Options& options, ControlState& control);

}  // namespace on::fake
