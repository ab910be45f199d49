// The JSON shapes of the query API that come from the store's and the query engine's types:
// instances (schemas/instance.schema.json), lifecycle events
// (schemas/lifecycle_event.schema.json), gap ranges, records (each made by
// schemas/record_json.h, byte for byte the shape of record.schema.json), the timeline, and
// the error body {"error":{"code","message"}}.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "collector/http/api.h"
#include "collector/query/records_page.h"
#include "collector/query/timeline.h"
#include "collector/store/store.h"

namespace blackbox::collector::http {

nlohmann::json instance_json(const InstanceInfo& i);
nlohmann::json lifecycle_event_json(std::string_view instance, const LifecycleEvent& e);
// {"stream":1,"stream_name":"logs","from_seq":…,"to_seq":…,"records":…,"detected":"…Z",
//  "detected_ns":…,"reason":"…"}
nlohmann::json gap_json(const GapRange& g);
nlohmann::json error_json(std::string_view code, std::string_view message);
// An answer with `body` (one line of JSON, invalid UTF-8 replaced) and `status`.
ApiResponse json_response(unsigned status, const nlohmann::json& body);
// An answer {"error":{"code","message"}} with `status`.
ApiResponse error_response(unsigned status, std::string_view code, std::string_view message);
// The batches an answer skipped because they could not be read (a damaged block):
// [{"stream":1,"stream_name":"logs","first_seq":…,"end_seq":…,"records":…,"error":"…"}]
nlohmann::json unreadable_json(const std::vector<UnreadableBatch>& list);
// GET /v1/health: {"status":"ok"|"read_only","ingest":"accepting"|"paused",
//  "reason":"…" (when not ok),"error":"disk_full"|"busy" (when not ok),
//  "read_only_start":bool,"free_bytes":N,"capacity_bytes":N}
nlohmann::json health_json(const StoreHealth& h);

// [record…] in page order (schemas/record_json.h per record).
nlohmann::json records_json(const std::vector<query::QueryRecord>& records);
// [bool…] per record: printed as context / starts a group (the API's "context" and
// "group_start", given when the query asked for context).
nlohmann::json context_flags_json(const std::vector<query::QueryRecord>& records);
nlohmann::json group_start_flags_json(const std::vector<query::QueryRecord>& records);

// {"instance":{…},"events":[…],"gaps":[…],"gap_records":[record…],
//  "bursts":[{"time","time_ns","count","worst"}],"bucket_ns":N,
//  "records":{"count":N,"first":…,"first_ns":…,"last":…,"last_ns":…},"partial":bool}
nlohmann::json timeline_json(const query::Timeline& t);

}  // namespace blackbox::collector::http
