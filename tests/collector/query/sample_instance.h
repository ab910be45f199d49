// The sample instance of the query engine and API tests: instance "i-1" with records
// 0..count-1 on its log stream, one a second from kT0, in batches of 10, where each record's
// line, source, severity and fields are a function of its number (log_record).
#pragma once

#include <string>
#include <vector>

#include "tests/support/store_fixture.h"

namespace blackbox::testing {

inline constexpr std::int64_t kS = 1'000'000'000;
inline constexpr std::int64_t kT0 = 1'795'674'900'000'000'000;  // 2026-11-26T06:35:00Z

// Record i: every 10th from 7 an ERROR (err), every 25th crit, every 3rd from db.log, every
// 4th with JSON fields user (bob every 8th, else alice) and n.
inline TestRecord log_record(int i) {
  TestRecord r;
  r.time_ns = kT0 + i * kS;
  r.source = i % 3 == 0 ? "/var/log/db.log" : "/var/log/app.log";
  r.severity = i % 10 == 7 ? Severity::kErr : (i % 25 == 0 ? Severity::kCrit : Severity::kInfo);
  r.line = "line " + std::to_string(i) + (i % 10 == 7 ? " ERROR disk full" : " ok");
  if (i % 4 == 0) {
    r.flags = record_flags::kJson;
    r.fields = {{"user", i % 8 == 0 ? "\"bob\"" : "\"alice\""}, {"n", std::to_string(i)}};
  }
  return r;
}

// HELLO of "i-1", then records 0..count-1 (count a multiple of 10) on its log stream.
inline void add_sample_instance(StoreFixture& fx, int count) {
  fx.hello("i-1", "ami-1");
  for (int b = 0; b < count / 10; ++b) {
    std::vector<TestRecord> batch;
    for (int i = b * 10; i < b * 10 + 10; ++i) batch.push_back(log_record(i));
    fx.add_batch("i-1", 1, batch);
  }
}

}  // namespace blackbox::testing
