// The collector's configuration: plain data, every default in its declaration, one comment per
// field. Its keys are declared once, in the table of config.cc (schemas/config_table.h): that
// table reads TOML, renders --check-config and is tested against the documented example
// collector/blackbox-collector.toml. Durations are read as "10s"/"500ms" (held here in *_ms
// fields, named without the _ms in the file), sizes as "64MiB" (held in bytes). Loaded from TOML,
// then flags override it, then validate() reports every problem at once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "collector/ingest/ingest_writer.h"
#include "collector/server/enrollment.h"
#include "collector/server/server_options.h"
#include "collector/store/store.h"
#include "schemas/config_table.h"
#include "schemas/result.h"

namespace blackbox::collector {

struct CollectorSection {
  std::string data_dir = "/var/lib/blackbox-collector";  // RocksDB lives here
  std::string listen = "127.0.0.1:7700";  // agents connect here (HOST:PORT; port 0 = any)
  std::string http = "127.0.0.1:8787";  // query API and GET /metrics (HOST:PORT)
  std::string log_level = "info";       // trace, debug, info, warn, error, critical
  std::uint32_t io_threads = 2;         // threads running connections (and HTTP)
  std::string auth_secret;              // fleet secret: HELLO.token = hex HMAC-SHA256(it, id)
  std::string auth_secret_file;         // ... or read from this file (mode 600; newline cut)
};

// TLS on the agents' ingest port (collector.listen); off while cert_file is empty.
struct TlsSection {
  std::string cert_file;       // PEM server certificate (then intermediates); reloaded on SIGHUP
  std::string key_file;        // PEM private key, mode 600
  std::string client_ca_file;  // set: mTLS, agents need a client certificate from this CA
  std::string min_version = "1.3";                  // "1.3", or "1.2" to allow TLS 1.2
  std::string identity = "uri_san";                 // mTLS instance id from: uri_san, dns_san, cn
  std::string identity_uri_prefix = "blackbox://instance/";  // uri_san: the id follows this
};

struct ServerSection {
  std::uint32_t max_connections = 10'000;         // beyond: ERROR busy, close
  std::uint32_t hello_timeout_ms = 10'000;        // HELLO must arrive within this
  std::uint32_t idle_timeout_ms = 90'000;         // longest gap between frames
  std::uint32_t frame_timeout_ms = 15'000;        // a started frame must finish within this
  std::uint32_t write_timeout_ms = 30'000;        // a write to an agent must finish within this
  std::uint32_t drain_timeout_ms = 5'000;         // SIGTERM: time for agents to get last ACKs
  std::uint64_t max_inflight_bytes = 512u << 20;  // all connections: then backpressure
  std::uint64_t max_connection_inflight_bytes = 64u << 20;  // one connection
  std::uint32_t index_threads = 0;  // threads verifying/indexing batches; 0 = one per core
};

struct LimitsSection {
  std::uint32_t max_frame_bytes = kDefaultMaxFrameBytes;
  std::uint32_t max_batch_raw_bytes = kDefaultMaxBatchRawBytes;
  std::uint32_t max_records_per_batch = kDefaultMaxRecordsPerBatch;
  std::uint32_t max_line_bytes = kDefaultMaxLineBytes;
};

struct StorageSection {
  bool sync_writes = true;              // fsync the WAL before every ACK (group commit)
  std::uint64_t retention_ms = 0;       // delete batches older than this ("30d"); 0s = never
  std::vector<std::string> legal_hold;  // instances retention never deletes (added at start)
  bool index_words = true;              // word filter per batch for searches
  std::uint64_t block_cache_bytes = 256u << 20;
  std::uint64_t write_buffer_bytes = 64u << 20;
  std::uint64_t max_group_bytes = 64u << 20;  // batch bytes per group commit
  // A record whose event time is further than this from its read time is indexed and windowed
  // by its read time and flagged time_skewed (collector/store/window_time.h); 0s = never.
  std::uint64_t time_skew_ms = 86'400'000;
  std::uint32_t max_open_files = 256;  // RocksDB table files kept open (reserved below ulimit -n)
};

struct LifecycleSection {
  std::uint32_t silent_after_ms = 120'000;  // no heartbeat this long: instance is silent
  std::uint32_t silent_check_interval_ms = 1'000;
};

// Enrollment of instance keys (server/enrollment.h; issue 12 item 2).
struct EnrollmentSection {
  // Fleet enrollment secrets, each "NAME:FILE" or "NAME:FILE:PATTERN": the secret is read from
  // FILE (read_secret_file: mode 0600), and may enroll only instance ids matching the fnmatch
  // glob PATTERN (e.g. "i-web-*"). Empty: key authentication is off.
  std::vector<std::string> secrets;
  std::uint32_t per_minute = 60;  // new enrollments per minute (token bucket) ...
  std::uint32_t burst = 20;       // ... with this burst; over it: ERROR busy
};

// The query API's access control and HTTPS (collector/http/access.h, issue 12 item 4).
struct ApiSection {
  // Bearer tokens, one "ROLE NAME TOKEN" per line (collector/http/access.h); refused when
  // other users may read it. Empty = no tokens: the API must then listen on loopback only
  // (or the collector runs with --insecure).
  std::string tokens_file;
  std::string cert_file;  // PEM certificate (chain) for HTTPS; empty = plain HTTP
  std::string key_file;   // PEM private key of cert_file (private file, like tokens_file)
};

struct Config {
  CollectorSection collector;
  ServerSection server;
  LimitsSection limits;
  StorageSection storage;
  LifecycleSection lifecycle;
  TlsSection tls;
  EnrollmentSection enrollment;
  ApiSection api;
};

// Parses TOML text; unknown keys and wrong types are problems.
[[nodiscard]] Result<Config> parse_config(std::string_view toml_text, const std::string& origin,
                                          std::vector<std::string>& problems);
[[nodiscard]] Result<Config> load_config_file(const std::string& path,
                                              std::vector<std::string>& problems);
// Reads the file into `c`: the keys it sets with a valid value; the others keep theirs, so that
// validate(c) can still report the rest. Every problem is appended to `problems`.
[[nodiscard]] Result<void> read_config_file(const std::string& path, Config& c,
                                            std::vector<std::string>& problems);
// Every problem of a complete config (after flags), each a sentence saying what to fix.
std::vector<std::string> validate(const Config& c);

// The table of keys bound to `c`'s fields (schemas/config_table.h), in the example file's order.
std::vector<config::BoundKey> config_keys(Config& c);
// Every key of `c` as TOML (what --check-config prints).
std::string render_config(Config c);

// Conversions for the components (valid configs only).
Limits limits(const Config& c);
ServerOptions server_options(const Config& c);
StoreOptions store_options(const Config& c);
WriterOptions writer_options(const Config& c);
std::int64_t retention_ns(const Config& c);  // 0 = keep forever
std::int64_t time_skew_ns(const Config& c);  // 0 = event times are never overridden
// The auth secret, read from auth_secret_file if set (schemas/secret_file.h: refused when others
// may read the file). Errors with `why`: kNotFound, kInvalidArgument (mode), kIo.
[[nodiscard]] Result<std::string> auth_secret(const Config& c, std::string& why);
// ISSUE 12 (secure defaults, for the lead's merge): true when enrollment secrets are
// configured, i.e. ingest is authenticated by enrolled instance keys.
bool enrollment_configured(const Config& c);
// The enrollment secrets (their files read through read_secret_file) and the rate limit.
// kInvalidArgument / kNotFound / kIo with `why` naming the file and what to do.
[[nodiscard]] Result<EnrollmentOptions> enrollment_options(const Config& c, std::string& why);

}  // namespace blackbox::collector
