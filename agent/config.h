// The agent's configuration: plain data with every default in its declaration, one comment
// per field. Its keys are declared once, in the table of config.cc (schemas/config_table.h):
// that table reads TOML, renders --check-config and is tested against the documented example
// agent/blackbox-agent.toml. Durations are read as "10s"/"500ms" (held here in *_ms fields,
// named without the _ms in the file), sizes as "64MiB" (held in bytes). Loaded from TOML, then
// flags override it, then validate() reports every problem at once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/inputs/file_input.h"
#include "agent/spool/spool.h"
#include "schemas/config_table.h"
#include "schemas/result.h"

namespace blackbox::agent {

struct AgentSection {
  std::string instance_id;  // empty: cloud-init's, else /etc/machine-id
  std::string image_id;     // empty: read image_id_file
  std::string image_id_file = "/etc/blackbox/image-id";  // baked into the image
  std::string state_dir = "/var/lib/blackbox-agent";     // spool, control socket, lock
  std::string log_level = "info";                 // trace, debug, info, warn, error, critical
  std::string metrics_listen = "127.0.0.1:9466";  // Prometheus GET /metrics; "" = off
  std::string cloud_instance_id_file = "/var/lib/cloud/data/instance-id";
  std::string machine_id_file = "/etc/machine-id";
  std::string boot_id_file = "/proc/sys/kernel/random/boot_id";
};

struct FilesSection {
  std::vector<std::string> paths;                // glob patterns of files to tail
  std::string read_from = "beginning";           // first start only: "beginning" or "end"
  std::uint32_t max_line_bytes = 1u << 20;       // longer lines are split (kSplitHead/kSplitTail)
  std::uint32_t partial_line_timeout_ms = 1000;  // emit a line without newline after this
  std::uint32_t rotate_wait_ms = 10000;         // keep reading a rotated-away file while it is idle
  std::uint32_t poll_interval_ms = 100;         // how often idle files are read
  std::uint32_t glob_interval_ms = 1000;        // how often globs are expanded
  std::uint32_t read_chunk_bytes = 256 * 1024;  // one read() call
  std::uint32_t fingerprint_bytes = 1024;       // identity: CRC32C of a file's first bytes
  std::uint32_t max_open_files = 512;
  bool parse_json = true;  // parse lines that are JSON objects
};

struct SpoolSection {
  std::string dir;                          // empty: <state_dir>/spool
  std::uint64_t segment_bytes = 16u << 20;  // segment file size
  std::uint64_t max_bytes = 256u << 20;     // hard cap; when full, inputs wait
  std::string fsync = "always";             // "always" (per append group), "interval", "never"
  std::uint32_t fsync_interval_ms = 1000;   // for fsync = "interval"
  std::uint32_t batch_bytes = 1u << 20;     // cut a batch at this many encoded bytes
  std::uint32_t batch_linger_ms = 250;      // ... or when its first record is this old
  std::uint32_t max_records_per_batch = 100000;
  int compression_level = 1;  // zstd level, applied once at spool time
  // Chain heads are signed with the instance key this often when they changed (and at the
  // last gasp); 0: only at the last gasp (issue 12 item 5).
  std::uint32_t sign_interval_ms = 60'000;
};

struct ShipSection {
  std::vector<std::string> collectors;     // HOST:PORT, in failover order
  std::string token;                       // HELLO credential (HMAC hex), may be empty
  std::string token_file;                  // ... or read from this file (mode 0600)
  // How the agent authenticates: "key" (its own Ed25519 key, enrolled on the first HELLO with
  // the fleet enrollment secret), "token" or "none". "" = "key" when enrollment_secret_file is
  // set, else "token" when a token is, else "none".
  std::string auth;
  std::string enrollment_secret_file;      // the fleet enrollment secret (mode 0600)
  std::uint32_t window_batches = 64;       // batches in flight without an ACK
  std::uint64_t window_bytes = 16u << 20;  // bytes in flight without an ACK
  std::uint32_t connect_timeout_ms = 5000;
  std::uint32_t handshake_timeout_ms = 10000;  // HELLO → WELCOME
  std::uint32_t ack_timeout_ms = 30000;        // batches in flight and no ACK: reconnect
  std::uint32_t backoff_min_ms = 100;          // reconnect delay: full jitter in [min, 2^n·min]
  std::uint32_t backoff_max_ms = 30000;
  std::uint32_t heartbeat_interval_ms = 10000;
  std::uint32_t shutdown_deadline_ms = 20000;  // last gasp: drain, ship, wait for ACKs
  // Data waiting and no ACK advancing this long: health "shipping_stalled" (GET /health 503)
  // and one error line saying why (unreachable, no ACKs, rejected).
  std::uint32_t stall_timeout_ms = 300000;
  bool tls = false;             // TLS to the collectors (ship/transport.h)
  std::string tls_ca_file;      // PEM CAs the collector's certificate must chain to; "": system
  std::string tls_server_name;  // SNI + name checked; "": the host of the collector address
  std::string tls_cert_file;    // PEM client certificate (collector with mTLS); "": none
  std::string tls_key_file;     // its private key, mode 600
  std::string tls_min_version = "1.3";  // "1.3", or "1.2" for a collector that allows it
};

struct Config {
  AgentSection agent;
  FilesSection files;
  SpoolSection spool;
  ShipSection ship;

  std::string spool_dir() const;
  std::string control_socket_path() const;
  std::string lock_path() const;
  // The instance's own Ed25519 key (issue 12): generated on first start, never leaves the host.
  std::string instance_key_path() const;
};

// Parses TOML text; unknown keys and wrong types are errors. On failure `problems` lists them.
[[nodiscard]] Result<Config> parse_config(std::string_view toml_text, const std::string& origin,
                                          std::vector<std::string>& problems);
[[nodiscard]] Result<Config> load_config_file(const std::string& path,
                                              std::vector<std::string>& problems);
// Reads the file into `c`: the keys it sets with a valid value; the others keep theirs, so that
// validate(c) can still report the rest. Every problem is appended to `problems`.
[[nodiscard]] Result<void> read_config_file(const std::string& path, Config& c,
                                            std::vector<std::string>& problems);
// ship.auth with its default applied: "key", "token" or "none".
std::string effective_auth(const ShipSection& s);

// Every problem of a complete config (after flags), each one a sentence saying what to fix.
std::vector<std::string> validate(const Config& c);

// The table of keys bound to `c`'s fields (schemas/config_table.h), in the example file's order.
std::vector<config::BoundKey> config_keys(Config& c);
// Every key of `c` as TOML (what --check-config prints).
std::string render_config(Config c);

// Conversions for the components (valid configs only).
FsyncPolicy fsync_policy(const Config& c);
SpoolOptions spool_options(const Config& c);
FileInputOptions file_input_options(const Config& c);

}  // namespace blackbox::agent
