#include "query/client/api_client.h"

#include "schemas/http_api.h"

namespace blackbox::query {

std::string ApiClient::instance_path(std::string_view instance, std::string_view suffix) {
  std::string p(kApiPrefix);
  p += "/instances/";
  p += encode_path_segment(instance);
  p += suffix;
  return p;
}

ApiResult ApiClient::get(std::string_view path, const QueryParams& params,
                         std::chrono::milliseconds timeout) {
  return call("GET", path, params, timeout);
}

ApiResult ApiClient::call(std::string_view method, std::string_view path, const QueryParams& params,
                          std::chrono::milliseconds timeout) {
  const std::string target = make_http_target(path, params);
  auto res = http_.request(method, target, timeout);
  const auto& srv = http_.server();
  const std::string where = std::string(srv.https ? "https://" : "http://") + srv.host + ":" +
                            std::to_string(srv.port) + srv.base_path;
  if (!res) {
    ApiError e;
    e.exit_code = ExitCode::kUnreachable;
    e.code = errc_name(to_errc(res.error()));
    switch (to_errc(res.error())) {
      case Errc::kUnavailable:
        e.message = "cannot connect to the Blackbox server at " + where +
                    " (is blackbox-collector running with --http? set --server or "
                    "BLACKBOX_SERVER)";
        break;
      case Errc::kTimeout:
        e.message = "the Blackbox server at " + where + " did not answer in time";
        break;
      case Errc::kUnauthorized:
        e.message = "no trusted HTTPS connection to " + where + ": " + http_.tls_error() +
                    " (give the CA that signed the collector's certificate with --ca-file or "
                    "BLACKBOX_CA_FILE)";
        break;
      case Errc::kFrameTooLarge:
        e.exit_code = ExitCode::kServerError;
        e.message = "the answer from " + where + " is larger than the client accepts";
        break;
      default:
        e.exit_code = ExitCode::kServerError;
        e.message = "the connection to " + where + " failed (" + e.code +
                    "): is that a Blackbox server?" +
                    (srv.https ? "" : " (one serving HTTPS needs an https:// URL)");
        break;
    }
    return e;
  }
  nlohmann::json doc = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (res->status >= 200 && res->status < 300) {
    if (doc.is_discarded() || !doc.is_object()) {
      ApiError e;
      e.http_status = res->status;
      e.code = "bad_response";
      e.message = "the server at " + where + " answered " + target +
                  " with something that is "
                  "not the Blackbox API's JSON";
      return e;
    }
    return doc;
  }
  ApiError e;
  e.http_status = res->status;
  if (doc.is_object() && doc.contains("error") && doc["error"].is_object()) {
    e.code = doc["error"].value("code", "");
    e.message = doc["error"].value("message", "");
  }
  if (e.code.empty()) e.code = "http_" + std::to_string(res->status);
  if (e.message.empty())
    e.message = "the server answered HTTP " + std::to_string(res->status) + " to " + target;
  if (res->status == 401) {
    e.exit_code = ExitCode::kUnauthorized;
    e.message =
        http_.has_bearer_token()
            ? "the collector at " + where +
                  " does not accept this token (from BLACKBOX_TOKEN or --token-file): " + e.message
            : "the collector at " + where +
                  " needs a bearer token: set BLACKBOX_TOKEN or pass --token-file FILE "
                  "(role read for queries, admin for hold, release and reenroll)";
  } else if (res->status == 403) {
    e.exit_code = ExitCode::kForbidden;
    e.message = "permission denied: " + e.message + " (ask for a token of that role)";
  } else if (res->status == 404) {
    e.exit_code = ExitCode::kNotFound;
  } else if (res->status >= 400 && res->status < 500 && res->status != 408 && res->status != 429) {
    e.exit_code = ExitCode::kUsage;
  } else if (res->status == 503 || res->status == 429 || res->status == 408) {
    e.exit_code = ExitCode::kUnreachable;  // busy: a script may retry later
  } else {
    e.exit_code = ExitCode::kServerError;
  }
  return e;
}

}  // namespace blackbox::query
