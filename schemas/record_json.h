// Record → JSON, the shape of schemas/record.schema.json, for the HTTP query API, the CLI's
// `-o json` and the Kafka export:
//   {"instance","stream","seq","kind","time","time_ns","read_time_ns","source",
//    "severity"(name|null),"priority"(0..7|null),"flags":[...],"message",
//    "message_base64"(only when the line is not valid UTF-8),"fields":{key: raw JSON value},
//    "body"(non-log kinds only: the line parsed as JSON)}
// When the line is not valid UTF-8, "message" is a lossy copy (U+FFFD for each ill-formed
// subsequence) and "message_base64" holds the exact bytes; record_message_bytes() inverts it.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "schemas/record.h"
#include "schemas/result.h"

namespace blackbox {

// Builds the JSON object of one record. A field whose value is not valid JSON (it should
// always be: the agent wrote it from a parsed JSON line) is carried as a JSON string of its
// bytes, lossily if need be; a non-log body that does not parse is carried as "body": null.
nlohmann::json record_to_json(std::string_view instance, std::uint32_t stream, const RecordView& r);

// The exact original bytes of a record object made by record_to_json(): "message_base64"
// decoded when present, else "message". kInvalidArgument when neither is usable.
[[nodiscard]] Result<std::string> record_message_bytes(const nlohmann::json& record);

// "split_head", "split_tail", "partial", "json" for the bits of record_flags.
const char* record_flag_name(std::uint8_t bit) noexcept;

}  // namespace blackbox
