// The query API as the CLI sees it: GET an endpoint, get its JSON document or an ApiError that
// says what went wrong and which exit code it deserves. Endpoints: query/README.md.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>

#include "query/client/http_client.h"
#include "query/exit_codes.h"
#include "schemas/http_target.h"

namespace blackbox::query {

struct ApiError {
  ExitCode exit_code = ExitCode::kServerError;
  unsigned http_status = 0;  // 0 when no HTTP answer arrived
  std::string code;          // the API's error code ("not_found", "bad_regex", ...)
  std::string message;       // for a person: what went wrong and what to do
};

// A JSON document or an ApiError.
class ApiResult {
 public:
  ApiResult(nlohmann::json value) : v_(std::move(value)) {}
  ApiResult(ApiError error) : v_(std::move(error)) {}
  explicit operator bool() const { return v_.index() == 0; }
  nlohmann::json& operator*() { return std::get<0>(v_); }
  nlohmann::json* operator->() { return &std::get<0>(v_); }
  const ApiError& error() const { return std::get<1>(v_); }

 private:
  std::variant<nlohmann::json, ApiError> v_;
};

class ApiClient {
 public:
  explicit ApiClient(HttpClient& http) : http_(http) {}

  // GET path?params and parse the JSON answer. A non-2xx answer becomes an ApiError built from
  // the API's {"error":{"code","message"}} body; a transport failure becomes kUnreachable.
  ApiResult get(std::string_view path, const QueryParams& params = {},
                std::chrono::milliseconds timeout = {});
  // The same with another method (admin actions: "POST", "DELETE"). 401 becomes
  // kUnauthorized, 403 kForbidden, each with a message saying what is missing.
  ApiResult call(std::string_view method, std::string_view path, const QueryParams& params = {},
                 std::chrono::milliseconds timeout = {});

  // "/v1/instances/<id, percent-encoded><suffix>"
  static std::string instance_path(std::string_view instance, std::string_view suffix = "");

 private:
  HttpClient& http_;
};

}  // namespace blackbox::query
