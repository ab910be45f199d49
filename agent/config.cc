#include "agent/config.h"

#include "schemas/toml_reader.h"

#include <toml++/toml.h>

#include <fstream>
#include <sstream>

#include "schemas/limits.h"

namespace blackbox::agent {

std::string Config::spool_dir() const {
  return spool.dir.empty() ? agent.state_dir + "/spool" : spool.dir;
}
std::string Config::control_socket_path() const { return agent.state_dir + "/agent.sock"; }
std::string Config::lock_path() const { return agent.state_dir + "/agent.lock"; }

namespace {


}  // namespace

Result<Config> parse_config(std::string_view text, const std::string& origin,
                            std::vector<std::string>& problems) {
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << origin << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    problems.push_back(msg.str());
    return Err(Errc::kInvalidArgument);
  }
  Config c;
  TomlReader r(root, problems);
  const auto* a = r.section("agent");
  r.get(a, "agent", "instance_id", c.agent.instance_id);
  r.get(a, "agent", "image_id", c.agent.image_id);
  r.get(a, "agent", "image_id_file", c.agent.image_id_file);
  r.get(a, "agent", "state_dir", c.agent.state_dir);
  r.get(a, "agent", "log_level", c.agent.log_level);
  r.get(a, "agent", "metrics_listen", c.agent.metrics_listen);
  r.get(a, "agent", "cloud_instance_id_file", c.agent.cloud_instance_id_file);
  r.get(a, "agent", "machine_id_file", c.agent.machine_id_file);
  r.get(a, "agent", "boot_id_file", c.agent.boot_id_file);
  const auto* f = r.section("files");
  r.get(f, "files", "paths", c.files.paths);
  r.get(f, "files", "read_from", c.files.read_from);
  r.get(f, "files", "max_line_bytes", c.files.max_line_bytes);
  r.get(f, "files", "partial_line_timeout_ms", c.files.partial_line_timeout_ms);
  r.get(f, "files", "rotate_wait_ms", c.files.rotate_wait_ms);
  r.get(f, "files", "poll_interval_ms", c.files.poll_interval_ms);
  r.get(f, "files", "glob_interval_ms", c.files.glob_interval_ms);
  r.get(f, "files", "read_chunk_bytes", c.files.read_chunk_bytes);
  r.get(f, "files", "fingerprint_bytes", c.files.fingerprint_bytes);
  r.get(f, "files", "max_open_files", c.files.max_open_files);
  r.get(f, "files", "parse_json", c.files.parse_json);
  const auto* s = r.section("spool");
  r.get(s, "spool", "dir", c.spool.dir);
  r.get(s, "spool", "segment_bytes", c.spool.segment_bytes);
  r.get(s, "spool", "max_bytes", c.spool.max_bytes);
  r.get(s, "spool", "fsync", c.spool.fsync);
  r.get(s, "spool", "fsync_interval_ms", c.spool.fsync_interval_ms);
  r.get(s, "spool", "batch_bytes", c.spool.batch_bytes);
  r.get(s, "spool", "batch_linger_ms", c.spool.batch_linger_ms);
  r.get(s, "spool", "max_records_per_batch", c.spool.max_records_per_batch);
  r.get(s, "spool", "compression_level", c.spool.compression_level);
  const auto* h = r.section("ship");
  r.get(h, "ship", "collectors", c.ship.collectors);
  r.get(h, "ship", "token", c.ship.token);
  r.get(h, "ship", "window_batches", c.ship.window_batches);
  r.get(h, "ship", "window_bytes", c.ship.window_bytes);
  r.get(h, "ship", "connect_timeout_ms", c.ship.connect_timeout_ms);
  r.get(h, "ship", "handshake_timeout_ms", c.ship.handshake_timeout_ms);
  r.get(h, "ship", "ack_timeout_ms", c.ship.ack_timeout_ms);
  r.get(h, "ship", "backoff_min_ms", c.ship.backoff_min_ms);
  r.get(h, "ship", "backoff_max_ms", c.ship.backoff_max_ms);
  r.get(h, "ship", "heartbeat_interval_ms", c.ship.heartbeat_interval_ms);
  r.get(h, "ship", "shutdown_deadline_ms", c.ship.shutdown_deadline_ms);
  r.check_unknown();
  if (!problems.empty()) return Err(Errc::kInvalidArgument);
  return c;
}

Result<Config> load_config_file(const std::string& path, std::vector<std::string>& problems) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    problems.push_back("cannot read config file " + path);
    return Err(Errc::kNotFound);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path, problems);
}

namespace {

bool valid_host_port(const std::string& s) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size()) return false;
  unsigned long port = 0;
  for (char ch : s.substr(colon + 1)) {
    if (ch < '0' || ch > '9') return false;
    port = port * 10 + static_cast<unsigned long>(ch - '0');
    if (port > 65535) return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> validate(const Config& c) {
  std::vector<std::string> p;
  static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (std::find(std::begin(kLevels), std::end(kLevels), c.agent.log_level) == std::end(kLevels))
    p.push_back("agent.log_level must be one of trace, debug, info, warn, error, critical, off");
  if (c.agent.state_dir.empty()) p.push_back("agent.state_dir must not be empty");
  if (!c.agent.metrics_listen.empty() && !valid_host_port(c.agent.metrics_listen))
    p.push_back("agent.metrics_listen must be HOST:PORT (127.0.0.1:9466) or empty to disable");
  if (c.files.paths.empty()) p.push_back("no files to tail: set files.paths or pass --file GLOB");
  if (c.files.read_from != "beginning" && c.files.read_from != "end")
    p.push_back("files.read_from must be \"beginning\" or \"end\"");
  if (c.files.max_line_bytes < 16 || c.files.max_line_bytes > kDefaultMaxLineBytes)
    p.push_back("files.max_line_bytes must be in [16, " + std::to_string(kDefaultMaxLineBytes) +
                "]");
  if (c.files.read_chunk_bytes < 4096 || c.files.read_chunk_bytes > (16u << 20))
    p.push_back("files.read_chunk_bytes must be in [4096, 16777216]");
  if (c.files.fingerprint_bytes < 16 || c.files.fingerprint_bytes > 65536)
    p.push_back("files.fingerprint_bytes must be in [16, 65536]");
  if (c.files.poll_interval_ms == 0) p.push_back("files.poll_interval_ms must be > 0");
  if (c.files.glob_interval_ms == 0) p.push_back("files.glob_interval_ms must be > 0");
  if (c.files.max_open_files == 0) p.push_back("files.max_open_files must be > 0");
  if (c.spool.fsync != "always" && c.spool.fsync != "interval" && c.spool.fsync != "never")
    p.push_back("spool.fsync must be \"always\", \"interval\" or \"never\"");
  if (c.spool.batch_bytes < 1024 || c.spool.batch_bytes > (8u << 20))
    p.push_back("spool.batch_bytes must be in [1024, 8388608]");
  if (c.spool.max_records_per_batch == 0 ||
      c.spool.max_records_per_batch > kDefaultMaxRecordsPerBatch / 2)
    p.push_back("spool.max_records_per_batch must be in [1, " +
                std::to_string(kDefaultMaxRecordsPerBatch / 2) + "]");
  // A cut batch holds up to batch_bytes plus one read chunk of lines (each at most
  // max_line_bytes); a segment must take a few of them.
  const std::uint64_t max_entry = std::uint64_t{c.spool.batch_bytes} + c.files.read_chunk_bytes +
                                  c.files.max_line_bytes + 64 * 1024;
  if (c.spool.segment_bytes < 2 * max_entry)
    p.push_back("spool.segment_bytes must be at least " + std::to_string(2 * max_entry) +
                " (2 × (batch_bytes + read_chunk_bytes + max_line_bytes + 64 KiB))");
  if (c.spool.max_bytes < 2 * c.spool.segment_bytes)
    p.push_back("spool.max_bytes must be at least 2 × spool.segment_bytes");
  if (c.spool.compression_level < 1 || c.spool.compression_level > 19)
    p.push_back("spool.compression_level must be in [1, 19]");
  if (c.ship.collectors.empty())
    p.push_back("no collector: set ship.collectors or pass --collector HOST:PORT");
  for (const auto& addr : c.ship.collectors)
    if (!valid_host_port(addr)) p.push_back("collector address \"" + addr + "\" is not HOST:PORT");
  if (c.ship.window_batches == 0) p.push_back("ship.window_batches must be > 0");
  if (c.ship.window_bytes < (1u << 20)) p.push_back("ship.window_bytes must be >= 1048576");
  if (c.ship.backoff_min_ms == 0 || c.ship.backoff_max_ms < c.ship.backoff_min_ms)
    p.push_back("ship.backoff_min_ms must be > 0 and <= ship.backoff_max_ms");
  if (c.ship.heartbeat_interval_ms < 100) p.push_back("ship.heartbeat_interval_ms must be >= 100");
  if (c.ship.connect_timeout_ms == 0 || c.ship.handshake_timeout_ms == 0 ||
      c.ship.ack_timeout_ms == 0)
    p.push_back("ship timeouts must be > 0");
  if (c.ship.shutdown_deadline_ms < 100) p.push_back("ship.shutdown_deadline_ms must be >= 100");
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
