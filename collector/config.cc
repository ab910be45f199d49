#include "collector/config.h"

#include "schemas/toml_reader.h"

#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <sstream>

#include "schemas/time_text.h"

namespace blackbox::collector {
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
  const std::size_t before = problems.size();
  TomlReader r(root, problems, TomlReader::Integers::kNonNegative);
  const auto* t = r.section("collector");
  r.get(t, "collector", "data_dir", c.collector.data_dir);
  r.get(t, "collector", "listen", c.collector.listen);
  r.get(t, "collector", "http", c.collector.http);
  r.get(t, "collector", "log_level", c.collector.log_level);
  r.get(t, "collector", "io_threads", c.collector.io_threads);
  r.get(t, "collector", "auth_secret", c.collector.auth_secret);
  r.get(t, "collector", "auth_secret_file", c.collector.auth_secret_file);
  t = r.section("server");
  r.get(t, "server", "max_connections", c.server.max_connections);
  r.get(t, "server", "hello_timeout_ms", c.server.hello_timeout_ms);
  r.get(t, "server", "idle_timeout_ms", c.server.idle_timeout_ms);
  r.get(t, "server", "frame_timeout_ms", c.server.frame_timeout_ms);
  r.get(t, "server", "write_timeout_ms", c.server.write_timeout_ms);
  r.get(t, "server", "drain_timeout_ms", c.server.drain_timeout_ms);
  r.get(t, "server", "max_inflight_bytes", c.server.max_inflight_bytes);
  r.get(t, "server", "max_connection_inflight_bytes", c.server.max_connection_inflight_bytes);
  r.get(t, "server", "index_threads", c.server.index_threads);
  t = r.section("limits");
  r.get(t, "limits", "max_frame_bytes", c.limits.max_frame_bytes);
  r.get(t, "limits", "max_batch_raw_bytes", c.limits.max_batch_raw_bytes);
  r.get(t, "limits", "max_records_per_batch", c.limits.max_records_per_batch);
  r.get(t, "limits", "max_line_bytes", c.limits.max_line_bytes);
  t = r.section("storage");
  r.get(t, "storage", "sync_writes", c.storage.sync_writes);
  r.get(t, "storage", "retention", c.storage.retention);
  r.get(t, "storage", "legal_hold", c.storage.legal_hold);
  r.get(t, "storage", "index_words", c.storage.index_words);
  r.get(t, "storage", "block_cache_bytes", c.storage.block_cache_bytes);
  r.get(t, "storage", "write_buffer_bytes", c.storage.write_buffer_bytes);
  r.get(t, "storage", "max_group_bytes", c.storage.max_group_bytes);
  t = r.section("lifecycle");
  r.get(t, "lifecycle", "silent_after_ms", c.lifecycle.silent_after_ms);
  r.get(t, "lifecycle", "silent_check_interval_ms", c.lifecycle.silent_check_interval_ms);
  r.check_unknown();
  if (problems.size() != before) return Err(Errc::kInvalidArgument);
  return c;
}

Result<Config> load_config_file(const std::string& path, std::vector<std::string>& problems) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    problems.push_back("cannot read config file " + path);
    return Err(Errc::kIo);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), path, problems);
}

bool split_host_port(std::string_view s, std::string& host, std::uint16_t& port) {
  std::string_view h, p;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':')
      return false;
    h = s.substr(1, close - 1);
    p = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos) return false;
    h = s.substr(0, colon);
    p = s.substr(colon + 1);
  }
  if (h.empty() || p.empty() || p.size() > 5) return false;
  unsigned v = 0;
  for (char ch : p) {
    if (ch < '0' || ch > '9') return false;
    v = v * 10 + static_cast<unsigned>(ch - '0');
  }
  if (v > 65535) return false;
  host.assign(h);
  port = static_cast<std::uint16_t>(v);
  return true;
}

std::vector<std::string> validate(const Config& c) {
  std::vector<std::string> p;
  std::string host;
  std::uint16_t port = 0;
  if (c.collector.data_dir.empty()) p.push_back("collector.data_dir must not be empty");
  if (!split_host_port(c.collector.listen, host, port))
    p.push_back("collector.listen must be HOST:PORT, not \"" + c.collector.listen + "\"");
  if (!c.collector.http.empty() && !split_host_port(c.collector.http, host, port))
    p.push_back("collector.http must be HOST:PORT, not \"" + c.collector.http + "\"");
  static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (std::find(std::begin(kLevels), std::end(kLevels), c.collector.log_level) == std::end(kLevels))
    p.push_back(
        "collector.log_level must be one of trace, debug, info, warn, error, critical, off");
  if (c.collector.io_threads < 1 || c.collector.io_threads > 256)
    p.push_back("collector.io_threads must be 1..256");
  if (!c.collector.auth_secret.empty() && !c.collector.auth_secret_file.empty())
    p.push_back("set collector.auth_secret or collector.auth_secret_file, not both");
  if (c.server.max_connections < 1) p.push_back("server.max_connections must be at least 1");
  if (c.server.index_threads > 256) p.push_back("server.index_threads must be 0..256");
  for (auto [v, name] : {std::pair{c.server.hello_timeout_ms, "hello_timeout_ms"},
                         {c.server.idle_timeout_ms, "idle_timeout_ms"},
                         {c.server.frame_timeout_ms, "frame_timeout_ms"},
                         {c.server.write_timeout_ms, "write_timeout_ms"}})
    if (v < 1) p.push_back(std::string("server.") + name + " must be at least 1");
  if (c.limits.max_frame_bytes < kBatchHeaderBytes + kFrameHeaderBytes)
    p.push_back("limits.max_frame_bytes is too small to hold a batch");
  if (c.server.max_connection_inflight_bytes < c.limits.max_frame_bytes)
    p.push_back("server.max_connection_inflight_bytes must be at least limits.max_frame_bytes");
  if (c.server.max_inflight_bytes < c.server.max_connection_inflight_bytes)
    p.push_back("server.max_inflight_bytes must be at least server.max_connection_inflight_bytes");
  if (c.limits.max_records_per_batch < 1) p.push_back("limits.max_records_per_batch must be >= 1");
  if (c.limits.max_line_bytes < 1) p.push_back("limits.max_line_bytes must be >= 1");
  if (c.storage.retention != "0" && c.storage.retention != "" &&
      !parse_duration_ns(c.storage.retention))
    p.push_back(
        "storage.retention must be a duration like \"30d\" or \"0\" (keep forever), not \"" +
        c.storage.retention + "\"");
  if (c.storage.write_buffer_bytes < (1u << 20))
    p.push_back("storage.write_buffer_bytes must be at least 1 MiB");
  if (c.storage.max_group_bytes < c.limits.max_frame_bytes)
    p.push_back("storage.max_group_bytes must be at least limits.max_frame_bytes");
  if (c.lifecycle.silent_after_ms < 1) p.push_back("lifecycle.silent_after_ms must be >= 1");
  if (c.lifecycle.silent_check_interval_ms < 1)
    p.push_back("lifecycle.silent_check_interval_ms must be >= 1");
  return p;
}

Limits limits(const Config& c) {
  Limits l;
  l.max_frame_bytes = c.limits.max_frame_bytes;
  l.max_batch_raw_bytes = c.limits.max_batch_raw_bytes;
  l.max_records_per_batch = c.limits.max_records_per_batch;
  l.max_line_bytes = c.limits.max_line_bytes;
  return l;
}

ServerOptions server_options(const Config& c) {
  using std::chrono::milliseconds;
  ServerOptions o;
  split_host_port(c.collector.listen, o.host, o.port);
  o.max_connections = c.server.max_connections;
  o.hello_timeout = milliseconds(c.server.hello_timeout_ms);
  o.idle_timeout = milliseconds(c.server.idle_timeout_ms);
  o.frame_timeout = milliseconds(c.server.frame_timeout_ms);
  o.write_timeout = milliseconds(c.server.write_timeout_ms);
  o.drain_timeout = milliseconds(c.server.drain_timeout_ms);
  o.max_inflight_bytes = c.server.max_inflight_bytes;
  o.max_connection_inflight_bytes = c.server.max_connection_inflight_bytes;
  o.index_threads = c.server.index_threads;
  o.limits = limits(c);
  o.index_words = c.storage.index_words;
  return o;
}

std::int64_t retention_ns(const Config& c) {
  if (c.storage.retention.empty() || c.storage.retention == "0") return 0;
  auto d = parse_duration_ns(c.storage.retention);
  return d ? *d : 0;
}

StoreOptions store_options(const Config& c) {
  StoreOptions o;
  o.path = c.collector.data_dir;
  o.retention_ns = retention_ns(c);
  o.block_cache_bytes = c.storage.block_cache_bytes;
  o.write_buffer_bytes = c.storage.write_buffer_bytes;
  return o;
}

WriterOptions writer_options(const Config& c) {
  WriterOptions o;
  o.sync = c.storage.sync_writes;
  o.max_group_bytes = c.storage.max_group_bytes;
  o.ledger.silent_after = std::chrono::milliseconds(c.lifecycle.silent_after_ms);
  return o;
}

Result<std::string> auth_secret(const Config& c) {
  if (c.collector.auth_secret_file.empty()) return c.collector.auth_secret;
  std::ifstream in(c.collector.auth_secret_file, std::ios::binary);
  if (!in) return Err(Errc::kIo);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace blackbox::collector
