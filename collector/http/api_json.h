// The JSON shapes of the query API that come from the store's types: instances
// (schemas/instance.schema.json), lifecycle events (schemas/lifecycle_event.schema.json), gap
// ranges, and the error body {"error":{"code","message"}}. Records: schemas/record_json.h.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "collector/store/store.h"

namespace blackbox::collector::http {

nlohmann::json instance_json(const InstanceInfo& i);
nlohmann::json lifecycle_event_json(std::string_view instance, const LifecycleEvent& e);
// {"stream":1,"stream_name":"logs","from_seq":…,"to_seq":…,"records":…,"detected":"…Z",
//  "detected_ns":…,"reason":"…"}
nlohmann::json gap_json(const GapRange& g);
nlohmann::json error_json(std::string_view code, std::string_view message);

}  // namespace blackbox::collector::http
