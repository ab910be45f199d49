// Writes the seed corpora of the fuzz targets: valid frames of every type and valid batches
// (uncompressed and zstd, every record kind), plus inputs for batch_fuzz's wrapping modes, and
// record bodies of every kind for body_fuzz; spool segments (whole, torn, damaged, and for
// spool_segment_fuzz's wrapping mode) and checkpoints; JSON lines; the agent's and the
// collector's configs as --check-config renders them; query API targets and cursors.
// Usage: fuzz_make_corpus <dir>   → <dir>/<target>/* for every target of CMakeLists.txt
// The committed seeds in tests/fuzz/corpus/ came from this program (some are hand-written).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "agent/config.h"
#include "agent/spool/checkpoint.h"
#include "agent/spool/segment_format.h"
#include "collector/config.h"
#include "collector/query/cursor.h"
#include "schemas/batch.h"
#include "schemas/bytes.h"
#include "schemas/frame.h"
#include "schemas/gap_body.h"
#include "schemas/http_target.h"
#include "schemas/lifecycle_body.h"
#include "schemas/snapshot_body.h"
#include "schemas/zstd_codec.h"

namespace {

using namespace blackbox;

void write(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string batch(bool compressed, std::uint64_t first_seq, const ChainHash& prev) {
  BatchBuilder b;
  const Field fields[] = {{"level", "\"error\""}, {"n", "42"}};
  RecordData log;
  log.severity = Severity::kErr;
  log.flags = record_flags::kJson;
  log.event_time_ns = 1'700'000'000'000'000'000;
  log.read_time_ns = log.event_time_ns + 5;
  log.source = "/var/log/app.log";
  log.line = R"({"level":"error","msg":"disk full"})";
  log.fields = fields;
  b.add(log);
  RecordData raw = log;
  raw.flags = record_flags::kPartial;
  raw.line = std::string_view("bad \xff\x00\r bytes", 13);
  raw.fields = {};
  b.add(raw);
  RecordData lifecycle;
  lifecycle.kind = RecordKind::kLifecycle;
  lifecycle.source = "agent";
  lifecycle.line = R"({"event":"goodbye","reason":"sigterm"})";
  b.add(lifecycle);
  RecordData gap;
  gap.kind = RecordKind::kGap;
  gap.source = "agent";
  gap.line =
      R"({"reason":"line_too_long","source":"/var/log/app.log","lost_bytes":5,"from_offset":0})";
  b.add(gap);
  RecordData snap;
  snap.kind = RecordKind::kSnapshot;
  snap.source = "agent";
  snap.line = R"({"packages":["openssl 3.0"],"users":["root"]})";
  b.add(snap);
  ZstdCompressor zc(1);
  std::string out;
  auto h = b.seal(1, first_seq, prev, compressed ? &zc : nullptr, out);
  if (!h) std::abort();
  return out;
}

void write_bodies(const std::filesystem::path& dir) {
  write(dir / "lifecycle_hello",
        encode_lifecycle_body(
            HelloBody{"0.1.0", "config", "ami-1", "b-1", "web-1", {false, 3, 12, 1}}));
  write(dir / "lifecycle_notice",
        encode_lifecycle_body(TerminationNoticeBody{"spot interruption"}));
  write(dir / "lifecycle_goodbye", encode_lifecycle_body(GoodbyeBody{"sigterm", true, "spot"}));
  GapBody rejected(gap_reason::kBatchRejected, "spool");
  rejected.error = "malformed_record";
  rejected.stream = 1;
  rejected.first_seq = 10;
  rejected.end_seq = 15;
  rejected.records = 5;
  write(dir / "gap_rejected", encode_gap_body(rejected));
  GapBody truncated(gap_reason::kTruncated, "/var/log/a.log");
  truncated.offset = 812;
  truncated.note = "gone";
  write(dir / "gap_truncated", encode_gap_body(truncated));
  write(dir / "snapshot_final",
        encode_snapshot_body(
            {SnapshotKind::kFinal, 1'795'674'914'123'456'789, {"packages", "users"}}));
  write(dir / "malformed_nested", R"({"event":"hello","spool":{"fresh":"no"},"x":[[[[[[]]]]]]})");
}

agent::Checkpoint sample_checkpoint() {
  agent::Checkpoint cp;
  cp.streams.push_back({1, 1000, {}});
  cp.streams.back().head[0] = 0x5a;
  cp.streams.push_back({2, 3, {}});
  cp.files.push_back({"/var/log/app.log", 2049, 131, 1024, 0xdeadbeef, 81920, 0});
  cp.files.push_back(
      {"/var/log/db.log", 2049, 132, 17, 0x1234, 17, agent::position_flags::kMidLine});
  return cp;
}

std::string encode_checkpoint(const agent::Checkpoint& cp) {
  std::string out;
  agent::encode_stream_states(out, cp.streams);
  agent::encode_file_positions(out, cp.files);
  return out;
}

void append_entry(std::string& file, agent::EntryType type, std::string_view batch,
                  std::string_view checkpoint) {
  const auto h = agent::make_entry_header(type, batch, checkpoint);
  file.append(h.data(), h.size());
  file.append(batch);
  file.append(checkpoint);
}

void write_spool(const std::filesystem::path& dir, const std::string& plain,
                 const std::string& zstd) {
  const agent::Checkpoint cp = sample_checkpoint();
  const std::string cp_bytes = encode_checkpoint(cp);
  write(dir / "checkpoint" / "two_streams_two_files", cp_bytes);
  write(dir / "checkpoint" / "empty", encode_checkpoint({}));
  agent::Checkpoint streams_only = cp;
  streams_only.files.clear();
  write(dir / "checkpoint" / "streams_only", encode_checkpoint(streams_only));

  std::string seg = agent::make_segment_header(7);
  append_entry(seg, agent::EntryType::kState, {}, cp_bytes);
  append_entry(seg, agent::EntryType::kBatch, plain, cp_bytes);
  append_entry(seg, agent::EntryType::kBatch, zstd, encode_checkpoint(streams_only));
  const auto d = dir / "spool_segment";
  write(d / "three_entries", seg);
  write(d / "header_only", agent::make_segment_header(1));
  write(d / "torn_tail", seg.substr(0, seg.size() - 9));
  std::string damaged = seg;
  damaged[agent::kSegmentHeaderBytes + agent::kEntryHeaderBytes + 3] ^= 0x40;
  write(d / "damaged_first_entry", damaged);
  // Wrapping mode: ctl (odd), cut, then pieces: type (odd: state), u16 length, bytes.
  std::string wrap("\x01\x80", 2);
  for (const auto& [type, piece] : {std::pair<char, std::string>{1, cp_bytes},
                                    {0, plain + cp_bytes},
                                    {0, zstd + encode_checkpoint(streams_only)}}) {
    wrap += type;
    bytes::put_le(wrap, static_cast<std::uint16_t>(piece.size()));
    wrap += piece;
  }
  write(d / "wrap_entries", wrap);
}

void write_text_seeds(const std::filesystem::path& dir) {
  const auto j = dir / "json_line";
  write(
      j / "fields",
      R"({"time":"2026-11-26T06:35:14.123456789Z","level":"error","msg":"disk full","user":"bob","n":42})");
  write(
      j / "epoch_ms",
      R"({"ts":1764138914123,"lvl":50,"message":"x","tags":["a","b"],"ctx":{"k":[1,2,{"z":null}]}})");
  write(j / "epoch_float",
        R"(  {"timestamp":1764138914.25,"severity":"WARN","ok":true,"nothing":null})");
  write(j / "escaped", R"({"@timestamp":"2026-11-26 07:35:14+01:00","kéy":"v"al\ue","	":1e308})");
  write(j / "zone_less_time", R"({"time":"2026-11-26T06:35:14,5","level":3})");
  write(j / "not_json", "2026-11-26 06:35:14 ERROR {not json}");
  write(j / "broken", R"({"a":[1,,2],"b":)");
  write(j / "time_text", "2026-11-26T06:35:14.000000001-08:30");

  const auto c = dir / "config";
  write(c / "agent_defaults", agent::render_config(agent::Config{}));
  write(c / "collector_defaults", collector::render_config(collector::Config{}));
  write(c / "agent_small",
        "[agent]\nstate_dir = \"/tmp/bb\"\n[files]\npaths = [\"/var/log/*.log\"]\n"
        "[spool]\nmax_bytes = \"64MiB\"\nbatch_linger = \"250ms\"\n"
        "[ship]\ncollectors = [\"127.0.0.1:7070\"]\n");
  write(c / "bad_types",
        "[spool]\nmax_bytes = -1\nsegment_bytes = \"12 parsecs\"\n[nope]\nx = 1\n");

  const auto h = dir / "http_query";
  namespace q = collector::query;
  q::RecordsCursor rc;
  rc.since = 1'795'674'900'000'000'000;
  rc.scan_from = {1'795'674'900'000'000'000, 1, 0, 3};
  rc.emit_from = {1'795'674'905'000'000'000, 1, 5, 6};
  rc.keys.push_back({1, q::source_hash("/var/log/app.log"), 4, 2});
  const std::string cursor = q::encode_records_cursor(rc);
  const std::string rec = "/v1/instances/i-1/records";
  write(h / "instances", make_http_target("/v1/instances", {{"state", "running"}, {"limit", "1"}}));
  write(h / "instances_cursor",
        make_http_target("/v1/instances", {{"cursor", q::encode_instances_cursor("i-1")}}));
  write(h / "instance", "/v1/instances/i-1");
  write(h / "records_grep",
        make_http_target(rec, {{"grep", "ERROR|d[a-z]+"}, {"limit", "2"}, {"ignore_case", "1"}}));
  write(h / "records_where", make_http_target(rec, {{"where", "user=\"bob\""},
                                                    {"priority", "warning..emerg"},
                                                    {"source", "/var/log/app.log"}}));
  write(h / "records_time", make_http_target(rec, {{"since", "2026-11-26T06:35:02Z"},
                                                   {"until", "1795674910000000000"},
                                                   {"stream", "logs"}}));
  write(
      h / "records_context",
      make_http_target(rec, {{"grep", "ERROR"}, {"before", "2"}, {"after", "1"}, {"limit", "1"}}));
  write(h / "records_cursor", make_http_target(rec, {{"cursor", cursor}}));
  write(h / "records_last_tail", make_http_target(rec, {{"last", "1h30m"}, {"tail", "3"}}));
  write(h / "follow",
        make_http_target("/v1/instances/i-1/follow",
                         {{"cursor", q::encode_follow_cursor(2) + ".3"}, {"wait", "0s"}}));
  write(h / "timeline",
        make_http_target("/v1/instances/i-1/timeline", {{"bucket", "10s"}, {"priority", "err"}}));
  write(h / "encoded_path", "/v1/instances/a%2Fb%20c/records?grep=a+b&where=k%3Dv&limit=");
  write(h / "metrics", "/metrics");
  write(h / "cursor_raw", cursor);
  write(h / "time_user", "2 hours ago");
  write(h / "time_unix", "@1764138914.25");
  write(h / "duration", "1.5h 20m");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <dir>\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir(argv[1]);
  std::filesystem::create_directories(dir / "frame");
  std::filesystem::create_directories(dir / "batch");
  std::filesystem::create_directories(dir / "body");
  for (const char* sub : {"spool_segment", "checkpoint", "json_line", "config", "http_query"})
    std::filesystem::create_directories(dir / sub);

  ChainHash prev{};
  prev[0] = 0x5a;
  const std::string plain = batch(false, 0, kZeroHash);
  const std::string zstd = batch(true, 5, prev);

  const std::string hello = encode_hello({1, "i-0abc123", "ami-1", "boot-1", "web-1", "0.1.0", ""});
  Welcome welcome;
  welcome.streams.push_back({1, 5, prev});
  welcome.streams.push_back({2, 0, {}});
  const std::string ack = encode_ack({{{1, 4}, {3, 9}}});
  const std::string heartbeat = encode_heartbeat({1'700'000'000'000'000'000, 4096, 10'000});
  const std::string goodbye = encode_goodbye({"sigterm", true});
  const std::string error = encode_error({Errc::kChecksumMismatch, "frame 3: CRC32C mismatch"});

  auto frame = [](FrameType t, const std::string& p) {
    std::string out;
    append_frame(out, t, p);
    return out;
  };
  write(dir / "frame/hello", frame(FrameType::kHello, hello));
  write(dir / "frame/welcome", frame(FrameType::kWelcome, encode_welcome(welcome)));
  write(dir / "frame/ack", frame(FrameType::kAck, ack));
  write(dir / "frame/heartbeat", frame(FrameType::kHeartbeat, heartbeat));
  write(dir / "frame/goodbye", frame(FrameType::kGoodbye, goodbye));
  write(dir / "frame/error", frame(FrameType::kError, error));
  write(dir / "frame/batch_plain", frame(FrameType::kBatch, plain));
  write(dir / "frame/batch_zstd", frame(FrameType::kBatch, zstd));
  write(dir / "frame/session", frame(FrameType::kHello, hello) + frame(FrameType::kBatch, plain) +
                                   frame(FrameType::kHeartbeat, heartbeat) +
                                   frame(FrameType::kGoodbye, goodbye));
  write(dir / "frame/payload_hello", hello);  // raw payloads reach the decoders directly
  write(dir / "frame/payload_welcome", encode_welcome(welcome));
  write(dir / "frame/payload_goodbye", goodbye);
  // Key auth (PROTOCOL.md §5.1): a version-2 HELLO, CHALLENGE and PROOF.
  Hello hello2{
      2, "i-0abc123", "ami-1", "boot-1", "web-1", "0.1.0", "", "key", std::string(32, '\x11')};
  const std::string challenge = encode_challenge({std::string(kNonceBytes, '\x5a')});
  const std::string proof = encode_proof({std::string(64, '\x22'), std::string(32, '\x33')});
  write(dir / "frame/hello_key", frame(FrameType::kHello, encode_hello(hello2)));
  write(dir / "frame/challenge", frame(FrameType::kChallenge, challenge));
  write(dir / "frame/proof", frame(FrameType::kProof, proof));
  write(dir / "frame/payload_hello_key", encode_hello(hello2));
  write(dir / "frame/payload_challenge", challenge);
  write(dir / "frame/payload_proof", proof);

  write(dir / "batch/plain", plain);
  write(dir / "batch/zstd", zstd);
  // Wrapping modes: ctl, count - 1, payload.
  const std::string raw_records = plain.substr(kBatchHeaderBytes);
  write(dir / "batch/wrap_raw", std::string("\x00\x04", 2) + raw_records);
  write(dir / "batch/wrap_compress", std::string("\x01\x04", 2) + raw_records);
  const std::string zpayload = zstd.substr(kBatchHeaderBytes);
  std::string ctl("\x02\x04", 2);
  bytes::put_le(ctl, static_cast<std::uint16_t>(raw_records.size()));
  write(dir / "batch/wrap_zstd", ctl + zpayload);
  write_bodies(dir / "body");
  write_spool(dir, plain, zstd);
  write_text_seeds(dir);
  std::printf("corpus written to %s\n", dir.c_str());
  return 0;
}
