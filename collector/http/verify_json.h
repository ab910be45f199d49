// The verify endpoints (issue 12 item 5) over the verify engine (collector/query/verify.h):
//   GET /v1/instances/{id}/verify[?since=&until=&key=]   one instance
//   GET /v1/verify?all=1[&since=&until=&key=]            every instance
// since/until: RFC 3339 with a zone or integer ns; key: an instance public key for instances
// with no enrolled key (64 hex digits, or a fingerprint pin "SHA256:…"; URL-encoded).
// The answer is 200 with the report (shape: query/README.md "verify") whatever it found; the
// verdict is its "status". 400 on bad parameters, 404 for an unknown instance, 500 when the
// store fails.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "collector/query/verify.h"
#include "schemas/http_target.h"

namespace blackbox::collector::http {

struct VerifyAnswer {
  unsigned status = 200;
  std::string body;  // JSON
};

// `instance` empty: every instance (requires all=1).
VerifyAnswer verify_endpoint(const Store& store, const std::string& instance,
                             const QueryParams& params);

nlohmann::json verify_report_json(const query::VerifyReport& report);

}  // namespace blackbox::collector::http
