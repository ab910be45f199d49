#include "agent/config.h"

#include "schemas/config_table.h"
#include "schemas/host_port.h"
#include "schemas/limits.h"

namespace blackbox::agent {

std::string Config::spool_dir() const {
  return spool.dir.empty() ? agent.state_dir + "/spool" : spool.dir;
}
std::string Config::control_socket_path() const { return agent.state_dir + "/agent.sock"; }
std::string Config::lock_path() const { return agent.state_dir + "/agent.lock"; }
std::string effective_auth(const ShipSection& s) {
  if (!s.auth.empty()) return s.auth;
  if (!s.enrollment_secret_file.empty()) return "key";
  return s.token.empty() && s.token_file.empty() ? "none" : "token";
}

std::string Config::instance_key_path() const { return agent.state_dir + "/instance.key"; }

namespace {

using config::Kind;
template <auto Section, auto Member>
constexpr auto kField = &config::member<Config, Section, Member>;
using A = AgentSection;
using F = FilesSection;
using S = SpoolSection;
using H = ShipSection;
constexpr auto kAgent = &Config::agent;
constexpr auto kFiles = &Config::files;
constexpr auto kSpool = &Config::spool;
constexpr auto kShip = &Config::ship;

// Every key of the agent's config file, in the order of agent/blackbox-agent.toml (the test
// Config.TheExampleFileDocumentsEveryKeyWithItsDefault keeps the two in step).
constexpr config::Key<Config> kKeys[] = {
    {"agent", "instance_id", Kind::kString, kField<kAgent, &A::instance_id>},
    {"agent", "image_id", Kind::kString, kField<kAgent, &A::image_id>},
    {"agent", "image_id_file", Kind::kString, kField<kAgent, &A::image_id_file>},
    {"agent", "state_dir", Kind::kString, kField<kAgent, &A::state_dir>},
    {"agent", "log_level", Kind::kString, kField<kAgent, &A::log_level>},
    {"agent", "metrics_listen", Kind::kString, kField<kAgent, &A::metrics_listen>},
    {"agent", "cloud_instance_id_file", Kind::kString, kField<kAgent, &A::cloud_instance_id_file>},
    {"agent", "machine_id_file", Kind::kString, kField<kAgent, &A::machine_id_file>},
    {"agent", "boot_id_file", Kind::kString, kField<kAgent, &A::boot_id_file>},
    {"files", "paths", Kind::kStringList, kField<kFiles, &F::paths>},
    {"files", "read_from", Kind::kString, kField<kFiles, &F::read_from>},
    {"files", "max_line_bytes", Kind::kSize, kField<kFiles, &F::max_line_bytes>},
    {"files", "partial_line_timeout", Kind::kDuration, kField<kFiles, &F::partial_line_timeout_ms>},
    {"files", "rotate_wait", Kind::kDuration, kField<kFiles, &F::rotate_wait_ms>},
    {"files", "poll_interval", Kind::kDuration, kField<kFiles, &F::poll_interval_ms>},
    {"files", "glob_interval", Kind::kDuration, kField<kFiles, &F::glob_interval_ms>},
    {"files", "read_chunk_bytes", Kind::kSize, kField<kFiles, &F::read_chunk_bytes>},
    {"files", "fingerprint_bytes", Kind::kSize, kField<kFiles, &F::fingerprint_bytes>},
    {"files", "max_open_files", Kind::kInteger, kField<kFiles, &F::max_open_files>},
    {"files", "parse_json", Kind::kBool, kField<kFiles, &F::parse_json>},
    {"spool", "dir", Kind::kString, kField<kSpool, &S::dir>},
    {"spool", "segment_bytes", Kind::kSize, kField<kSpool, &S::segment_bytes>},
    {"spool", "max_bytes", Kind::kSize, kField<kSpool, &S::max_bytes>},
    {"spool", "fsync", Kind::kString, kField<kSpool, &S::fsync>},
    {"spool", "fsync_interval", Kind::kDuration, kField<kSpool, &S::fsync_interval_ms>},
    {"spool", "batch_bytes", Kind::kSize, kField<kSpool, &S::batch_bytes>},
    {"spool", "batch_linger", Kind::kDuration, kField<kSpool, &S::batch_linger_ms>},
    {"spool", "max_records_per_batch", Kind::kInteger, kField<kSpool, &S::max_records_per_batch>},
    {"spool", "compression_level", Kind::kInteger, kField<kSpool, &S::compression_level>},
    {"spool", "sign_interval", Kind::kDuration, kField<kSpool, &S::sign_interval_ms>},
    {"ship", "collectors", Kind::kStringList, kField<kShip, &H::collectors>},
    {"ship", "token", Kind::kString, kField<kShip, &H::token>},
    {"ship", "token_file", Kind::kString, kField<kShip, &H::token_file>},
    {"ship", "auth", Kind::kString, kField<kShip, &H::auth>},
    {"ship", "enrollment_secret_file", Kind::kString, kField<kShip, &H::enrollment_secret_file>},
    {"ship", "window_batches", Kind::kInteger, kField<kShip, &H::window_batches>},
    {"ship", "window_bytes", Kind::kSize, kField<kShip, &H::window_bytes>},
    {"ship", "connect_timeout", Kind::kDuration, kField<kShip, &H::connect_timeout_ms>},
    {"ship", "handshake_timeout", Kind::kDuration, kField<kShip, &H::handshake_timeout_ms>},
    {"ship", "ack_timeout", Kind::kDuration, kField<kShip, &H::ack_timeout_ms>},
    {"ship", "backoff_min", Kind::kDuration, kField<kShip, &H::backoff_min_ms>},
    {"ship", "backoff_max", Kind::kDuration, kField<kShip, &H::backoff_max_ms>},
    {"ship", "heartbeat_interval", Kind::kDuration, kField<kShip, &H::heartbeat_interval_ms>},
    {"ship", "shutdown_deadline", Kind::kDuration, kField<kShip, &H::shutdown_deadline_ms>},
    {"ship", "stall_timeout", Kind::kDuration, kField<kShip, &H::stall_timeout_ms>},
    {"ship", "tls", Kind::kBool, kField<kShip, &H::tls>},
    {"ship", "tls_ca_file", Kind::kString, kField<kShip, &H::tls_ca_file>},
    {"ship", "tls_server_name", Kind::kString, kField<kShip, &H::tls_server_name>},
    {"ship", "tls_cert_file", Kind::kString, kField<kShip, &H::tls_cert_file>},
    {"ship", "tls_key_file", Kind::kString, kField<kShip, &H::tls_key_file>},
    {"ship", "tls_min_version", Kind::kString, kField<kShip, &H::tls_min_version>},
};

}  // namespace

std::vector<config::BoundKey> config_keys(Config& c) { return config::bind(kKeys, c); }

std::string render_config(Config c) { return config::render_toml(config_keys(c)); }

Result<Config> parse_config(std::string_view text, const std::string& origin,
                            std::vector<std::string>& problems) {
  Config c;
  if (auto ok = config::read_toml(text, origin, config_keys(c), problems); !ok) return ok.error();
  return c;
}

Result<void> read_config_file(const std::string& path, Config& c,
                              std::vector<std::string>& problems) {
  return config::read_toml_file(path, config_keys(c), problems);
}

Result<Config> load_config_file(const std::string& path, std::vector<std::string>& problems) {
  Config c;
  if (auto ok = read_config_file(path, c, problems); !ok) return ok.error();
  return c;
}

std::vector<std::string> validate(const Config& c) {
  std::vector<std::string> p;
  static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (std::find(std::begin(kLevels), std::end(kLevels), c.agent.log_level) == std::end(kLevels))
    p.push_back("agent.log_level must be one of trace, debug, info, warn, error, critical, off");
  if (c.agent.state_dir.empty()) p.push_back("agent.state_dir must not be empty");
  if (!c.agent.metrics_listen.empty() && !parse_host_port(c.agent.metrics_listen))
    p.push_back("agent.metrics_listen must be HOST:PORT (127.0.0.1:9466) or empty to disable");
  if (c.files.paths.empty()) p.push_back("no files to tail: set files.paths or pass --file GLOB");
  if (c.files.read_from != "beginning" && c.files.read_from != "end")
    p.push_back("files.read_from must be \"beginning\" or \"end\"");
  if (c.files.max_line_bytes < 16 || c.files.max_line_bytes > kDefaultMaxLineBytes)
    p.push_back("files.max_line_bytes must be in [16B, " +
                config::format_size_bytes(kDefaultMaxLineBytes) + "]");
  if (c.files.read_chunk_bytes < 4096 || c.files.read_chunk_bytes > (16u << 20))
    p.push_back("files.read_chunk_bytes must be in [4KiB, 16MiB]");
  if (c.files.fingerprint_bytes < 16 || c.files.fingerprint_bytes > 65536)
    p.push_back("files.fingerprint_bytes must be in [16B, 64KiB]");
  if (c.files.poll_interval_ms == 0) p.push_back("files.poll_interval must be at least 1ms");
  if (c.files.glob_interval_ms == 0) p.push_back("files.glob_interval must be at least 1ms");
  if (c.files.max_open_files == 0) p.push_back("files.max_open_files must be > 0");
  if (c.spool.fsync != "always" && c.spool.fsync != "interval" && c.spool.fsync != "never")
    p.push_back("spool.fsync must be \"always\", \"interval\" or \"never\"");
  if (c.spool.batch_bytes < 1024 || c.spool.batch_bytes > (8u << 20))
    p.push_back("spool.batch_bytes must be in [1KiB, 8MiB]");
  if (c.spool.max_records_per_batch == 0 ||
      c.spool.max_records_per_batch > kDefaultMaxRecordsPerBatch / 2)
    p.push_back("spool.max_records_per_batch must be in [1, " +
                std::to_string(kDefaultMaxRecordsPerBatch / 2) + "]");
  // A cut batch holds up to batch_bytes plus one read chunk of lines (each at most
  // max_line_bytes); a segment must take a few of them.
  const std::uint64_t max_entry = std::uint64_t{c.spool.batch_bytes} + c.files.read_chunk_bytes +
                                  c.files.max_line_bytes + 64 * 1024;
  if (c.spool.segment_bytes < 2 * max_entry)
    p.push_back("spool.segment_bytes must be at least " + config::format_size_bytes(2 * max_entry) +
                " (2 × (batch_bytes + read_chunk_bytes + max_line_bytes + 64 KiB))");
  if (c.spool.max_bytes < 2 * c.spool.segment_bytes)
    p.push_back("spool.max_bytes must be at least 2 × spool.segment_bytes");
  if (c.spool.compression_level < 1 || c.spool.compression_level > 19)
    p.push_back("spool.compression_level must be in [1, 19]");
  if (c.ship.collectors.empty())
    p.push_back("no collector: set ship.collectors or pass --collector HOST:PORT");
  for (const auto& addr : c.ship.collectors)
    if (!parse_host_port(addr)) p.push_back("collector address \"" + addr + "\" is not HOST:PORT");
  if (c.ship.window_batches == 0) p.push_back("ship.window_batches must be > 0");
  if (!c.ship.auth.empty() && c.ship.auth != "key" && c.ship.auth != "token" &&
      c.ship.auth != "none")
    p.push_back("ship.auth must be \"key\", \"token\" or \"none\"");
  if (!c.ship.token.empty() && !c.ship.token_file.empty())
    p.push_back("set ship.token or ship.token_file, not both");
  if (c.ship.auth == "token" && c.ship.token.empty() && c.ship.token_file.empty())
    p.push_back("ship.auth = \"token\" needs ship.token or ship.token_file");
  if (c.ship.window_bytes < (1u << 20)) p.push_back("ship.window_bytes must be at least 1MiB");
  if (c.ship.backoff_min_ms == 0 || c.ship.backoff_max_ms < c.ship.backoff_min_ms)
    p.push_back("ship.backoff_min must be at least 1ms and at most ship.backoff_max");
  if (c.ship.heartbeat_interval_ms < 100)
    p.push_back("ship.heartbeat_interval must be at least 100ms");
  if (c.ship.connect_timeout_ms == 0 || c.ship.handshake_timeout_ms == 0 ||
      c.ship.ack_timeout_ms == 0)
    p.push_back(
        "ship.connect_timeout, ship.handshake_timeout and ship.ack_timeout must be at least 1ms");
  if (c.ship.shutdown_deadline_ms < 100)
    p.push_back("ship.shutdown_deadline must be at least 100ms");
  if (c.ship.stall_timeout_ms < 100) p.push_back("ship.stall_timeout must be at least 100ms");
  if (c.ship.tls_min_version != "1.3" && c.ship.tls_min_version != "1.2")
    p.push_back("ship.tls_min_version must be \"1.3\" or \"1.2\"");
  if (c.ship.tls_cert_file.empty() != c.ship.tls_key_file.empty())
    p.push_back("ship.tls_cert_file and ship.tls_key_file go together: set both or neither");
  return p;
}

FsyncPolicy fsync_policy(const Config& c) {
  if (c.spool.fsync == "interval") return FsyncPolicy::kInterval;
  if (c.spool.fsync == "never") return FsyncPolicy::kNever;
  return FsyncPolicy::kAlways;
}

SpoolOptions spool_options(const Config& c) {
  SpoolOptions o;
  o.dir = c.spool_dir();
  o.segment_bytes = c.spool.segment_bytes;
  o.max_bytes = c.spool.max_bytes;
  o.fsync = fsync_policy(c);
  return o;
}

FileInputOptions file_input_options(const Config& c) {
  FileInputOptions o;
  o.globs = c.files.paths;
  o.read_from = c.files.read_from == "end" ? ReadFrom::kEnd : ReadFrom::kBeginning;
  o.tailer.chunk_bytes = c.files.read_chunk_bytes;
  o.tailer.max_line_bytes = c.files.max_line_bytes;
  o.tailer.partial_timeout_ns = std::int64_t{c.files.partial_line_timeout_ms} * 1'000'000;
  o.tailer.fingerprint_bytes = c.files.fingerprint_bytes;
  o.rotate_wait_ns = std::int64_t{c.files.rotate_wait_ms} * 1'000'000;
  o.max_open_files = c.files.max_open_files;
  return o;
}

}  // namespace blackbox::agent
