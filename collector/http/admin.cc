#include "collector/http/admin.h"

#include <spdlog/spdlog.h>

#include <future>
#include <nlohmann/json.hpp>

#include "collector/http/api_json.h"
#include "collector/ingest/ingest_writer.h"
#include "collector/store/store_write_batch.h"
#include "schemas/ed25519.h"
#include "schemas/hex.h"
#include "schemas/time_text.h"

namespace blackbox::collector::http {
namespace {

using nlohmann::json;

std::string who(const Caller& c) { return c.name.empty() ? "(no token)" : c.name; }

// A store write that failed: 503 while the store takes no writes (disk full, read-only start),
// 500 otherwise.
ApiResponse write_failed(const boost::system::error_code& ec, const std::string& what) {
  const Errc e = to_errc(ec);
  if (e == Errc::kDiskFull || e == Errc::kBusy)
    return error_response(503, "read_only",
                          what + ": the collector's store takes no writes now (" + errc_name(e) +
                              "; see GET /v1/health); retry when it does");
  return error_response(500, "storage_error",
                        what + " failed: " + errc_name(e) + " (see the collector's log)");
}

// The audit record of one admin action, through the writer thread (or committed directly
// when there is none). Blocks until it is durable; false if it is not.
bool write_audit(const Store& reader, Store* store, IngestWriter* writer, const Clock& clock,
                 const std::string& id, std::string_view action, json detail) {
  LifecycleEvent ev;
  ev.time_ns = clock.wall_ns();
  ev.kind = LifecycleKind::kAdmin;
  ev.reason = std::string(action);
  ev.detail_json = detail.dump(-1, ' ', false, json::error_handler_t::replace);
  boost::system::error_code ec;
  if (writer != nullptr) {
    std::promise<boost::system::error_code> done;
    auto f = done.get_future();
    writer->submit(AuditRequest{id, std::move(ev)},
                   [&done](WriteOutcome&& o) { done.set_value(o.ec); });
    ec = f.get();
  } else {
    (void)reader;
    StoreWriteBatch wb = store->write_batch();
    wb.put_lifecycle(id, ev);
    if (auto ok = store->commit(std::move(wb), CommitSync::kSync); !ok) ec = ok.error();
  }
  if (ec) {
    spdlog::error("audit: instance {}: the record of '{}' ({}) could not be written: {}", id,
                  action, detail.dump(), ec.message());
    return false;
  }
  return true;
}

ApiResponse audit_failed(const std::string& what) {
  return error_response(500, "audit_failed",
                        what +
                            " was done, but its audit record could not be written (see the "
                            "collector's log); the action is not undone");
}

}  // namespace

ApiResponse AdminApi::hold(const std::string& id, bool on, bool force, const Caller& caller) const {
  if (store_ == nullptr)
    return error_response(503, "read_only", "this API serves no admin actions");
  auto info = reader_.get_instance(id);
  const bool known = static_cast<bool>(info);
  if (!known && to_errc(info.error()) != Errc::kNotFound)
    return error_response(500, "storage_error",
                          "reading instance " + id + " failed: " + info.error().message());
  const bool was = reader_.legal_hold(id);
  if (on && !known && !force)
    return error_response(404, "not_found",
                          "no instance " + id +
                              ": pass force to hold it anyway (the collector "
                              "never heard from it; check the id with "
                              "`blackbox instances`)");
  if (!on && !known && !was)
    return error_response(404, "not_found",
                          "no instance " + id + " and no legal hold on it: nothing to release");
  const std::string action = on ? "legal_hold" : "release";
  if (auto ok = store_->set_legal_hold(id, on); !ok)
    return write_failed(ok.error(), action + " of " + id);
  json detail = {{"actor", caller.name.empty() ? json(nullptr) : json(caller.name)},
                 {"peer", caller.peer},
                 {"forced", force && !known},
                 {"changed", was != on}};
  spdlog::info("admin: {} {} instance {} from {}{}", who(caller), on ? "held" : "released", id,
               caller.peer, force && !known ? " (forced: unknown instance)" : "");
  if (!write_audit(reader_, store_, writer_, clock_, id, action, detail))
    return audit_failed(action + " of " + id);
  return json_response(200, {{"instance", id},
                             {"legal_hold", on},
                             {"changed", was != on},
                             {"known", known},
                             {"forced", force && !known}});
}

ApiResponse AdminApi::reenroll(const std::string& id, const Caller& caller) const {
  if (store_ == nullptr)
    return error_response(503, "read_only", "this API serves no admin actions");
  auto had = reader_.enrollment(id);
  if (!had)
    return error_response(500, "storage_error",
                          "reading the enrollment of " + id + " failed: " + had.error().message());
  if (!*had)
    return error_response(404, "not_found",
                          "instance " + id +
                              " has no enrolled key: nothing to re-enroll (list them with "
                              "`blackbox enrollments`)");
  const std::string fingerprint = ed25519_fingerprint((*had)->public_key);
  if (auto ok = store_->delete_enrollment(id); !ok) {
    if (to_errc(ok.error()) == Errc::kNotFound)
      return error_response(404, "not_found", "instance " + id + " has no enrolled key");
    return write_failed(ok.error(), "re-enrollment of " + id);
  }
  spdlog::info("admin: {} reset the enrollment of instance {} (key {}) from {}", who(caller), id,
               fingerprint, caller.peer);
  json detail = {{"actor", caller.name.empty() ? json(nullptr) : json(caller.name)},
                 {"peer", caller.peer},
                 {"forced", false},
                 {"previous_key", fingerprint}};
  if (!write_audit(reader_, store_, writer_, clock_, id, "reenroll", detail))
    return audit_failed("re-enrollment of " + id);
  return json_response(200, {{"instance", id}, {"reenroll", true}, {"previous_key", fingerprint}});
}

ApiResponse AdminApi::enrollments() const {
  auto list = reader_.enrollments();
  if (!list)
    return error_response(500, "storage_error",
                          "reading enrollments failed: " + list.error().message());
  json out = {{"enrollments", json::array()}};
  for (const auto& e : *list) {
    out["enrollments"].push_back(
        {{"instance", e.instance},
         {"key", ed25519_fingerprint(e.public_key)},
         {"public_key",
          hex_lower(std::string_view(reinterpret_cast<const char*>(e.public_key.data()),
                                     e.public_key.size()))},
         {"enrolled", format_rfc3339_ns(e.enrolled_ns)},
         {"enrolled_ns", e.enrolled_ns},
         {"secret_name", e.secret_name},
         {"peer", e.peer}});
  }
  return json_response(200, out);
}

ApiResponse AdminApi::holds() const {
  json out = {{"holds", reader_.legal_holds()}};
  return json_response(200, out);
}

}  // namespace blackbox::collector::http
