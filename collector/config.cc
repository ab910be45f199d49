#include "collector/config.h"

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

#include "collector/ingest_security.h"
#include "collector/server/fd_limit.h"
#include "schemas/config_table.h"
#include "schemas/host_port.h"
#include "schemas/secret_file.h"

namespace blackbox::collector {
namespace {

using config::Kind;
template <auto Section, auto Member>
constexpr auto kField = &config::member<Config, Section, Member>;
using C = CollectorSection;
using S = ServerSection;
using L = LimitsSection;
using T = StorageSection;
using Y = LifecycleSection;
using X = TlsSection;
using E = EnrollmentSection;
using A = ApiSection;
constexpr auto kCollector = &Config::collector;
constexpr auto kServer = &Config::server;
constexpr auto kLimits = &Config::limits;
constexpr auto kStorage = &Config::storage;
constexpr auto kLifecycle = &Config::lifecycle;
constexpr auto kTls = &Config::tls;
constexpr auto kEnrollment = &Config::enrollment;
constexpr auto kApi = &Config::api;

// Every key of the collector's config file, in the order of collector/blackbox-collector.toml
// (the test Config.TheExampleFileDocumentsEveryKeyWithItsDefault keeps the two in step).
constexpr config::Key<Config> kKeys[] = {
    {"collector", "data_dir", Kind::kString, kField<kCollector, &C::data_dir>},
    {"collector", "listen", Kind::kString, kField<kCollector, &C::listen>},
    {"collector", "http", Kind::kString, kField<kCollector, &C::http>},
    {"collector", "log_level", Kind::kString, kField<kCollector, &C::log_level>},
    {"collector", "io_threads", Kind::kInteger, kField<kCollector, &C::io_threads>},
    {"collector", "auth_secret", Kind::kString, kField<kCollector, &C::auth_secret>},
    {"collector", "auth_secret_file", Kind::kString, kField<kCollector, &C::auth_secret_file>},
    {"server", "max_connections", Kind::kInteger, kField<kServer, &S::max_connections>},
    {"server", "hello_timeout", Kind::kDuration, kField<kServer, &S::hello_timeout_ms>},
    {"server", "idle_timeout", Kind::kDuration, kField<kServer, &S::idle_timeout_ms>},
    {"server", "frame_timeout", Kind::kDuration, kField<kServer, &S::frame_timeout_ms>},
    {"server", "write_timeout", Kind::kDuration, kField<kServer, &S::write_timeout_ms>},
    {"server", "drain_timeout", Kind::kDuration, kField<kServer, &S::drain_timeout_ms>},
    {"server", "max_inflight_bytes", Kind::kSize, kField<kServer, &S::max_inflight_bytes>},
    {"server", "max_connection_inflight_bytes", Kind::kSize,
     kField<kServer, &S::max_connection_inflight_bytes>},
    {"server", "index_threads", Kind::kInteger, kField<kServer, &S::index_threads>},
    {"limits", "max_frame_bytes", Kind::kSize, kField<kLimits, &L::max_frame_bytes>},
    {"limits", "max_batch_raw_bytes", Kind::kSize, kField<kLimits, &L::max_batch_raw_bytes>},
    {"limits", "max_records_per_batch", Kind::kInteger, kField<kLimits, &L::max_records_per_batch>},
    {"limits", "max_line_bytes", Kind::kSize, kField<kLimits, &L::max_line_bytes>},
    {"storage", "sync_writes", Kind::kBool, kField<kStorage, &T::sync_writes>},
    {"storage", "retention", Kind::kDuration, kField<kStorage, &T::retention_ms>},
    {"storage", "legal_hold", Kind::kStringList, kField<kStorage, &T::legal_hold>},
    {"storage", "index_words", Kind::kBool, kField<kStorage, &T::index_words>},
    {"storage", "block_cache_bytes", Kind::kSize, kField<kStorage, &T::block_cache_bytes>},
    {"storage", "write_buffer_bytes", Kind::kSize, kField<kStorage, &T::write_buffer_bytes>},
    {"storage", "max_group_bytes", Kind::kSize, kField<kStorage, &T::max_group_bytes>},
    {"storage", "time_skew", Kind::kDuration, kField<kStorage, &T::time_skew_ms>},
    {"storage", "max_open_files", Kind::kInteger, kField<kStorage, &T::max_open_files>},
    {"lifecycle", "silent_after", Kind::kDuration, kField<kLifecycle, &Y::silent_after_ms>},
    {"lifecycle", "silent_check_interval", Kind::kDuration,
     kField<kLifecycle, &Y::silent_check_interval_ms>},
    {"tls", "cert_file", Kind::kString, kField<kTls, &X::cert_file>},
    {"tls", "key_file", Kind::kString, kField<kTls, &X::key_file>},
    {"tls", "client_ca_file", Kind::kString, kField<kTls, &X::client_ca_file>},
    {"tls", "min_version", Kind::kString, kField<kTls, &X::min_version>},
    {"tls", "identity", Kind::kString, kField<kTls, &X::identity>},
    {"tls", "identity_uri_prefix", Kind::kString, kField<kTls, &X::identity_uri_prefix>},
    {"enrollment", "secrets", Kind::kStringList, kField<kEnrollment, &E::secrets>},
    {"enrollment", "per_minute", Kind::kInteger, kField<kEnrollment, &E::per_minute>},
    {"enrollment", "burst", Kind::kInteger, kField<kEnrollment, &E::burst>},
    {"api", "tokens_file", Kind::kString, kField<kApi, &A::tokens_file>},
    {"api", "cert_file", Kind::kString, kField<kApi, &A::cert_file>},
    {"api", "key_file", Kind::kString, kField<kApi, &A::key_file>},
};

// "NAME:FILE" or "NAME:FILE:PATTERN" (enrollment.secrets); nullopt if NAME or FILE is empty.
std::optional<EnrollmentSecret> parse_secret_entry(const std::string& entry) {
  const auto a = entry.find(':');
  if (a == std::string::npos || a == 0) return std::nullopt;
  const auto b = entry.find(':', a + 1);
  EnrollmentSecret s;
  s.name = entry.substr(0, a);
  s.secret = entry.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
  if (b != std::string::npos) s.instance_pattern = entry.substr(b + 1);
  if (s.secret.empty()) return std::nullopt;
  return s;  // `secret` holds the FILE until enrollment_options() reads it
}

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
  if (c.collector.data_dir.empty()) p.push_back("collector.data_dir must not be empty");
  if (!parse_host_port(c.collector.listen))
    p.push_back("collector.listen must be HOST:PORT, not \"" + c.collector.listen + "\"");
  if (!c.collector.http.empty() && !parse_host_port(c.collector.http))
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
  for (auto [v, name] : {std::pair{c.server.hello_timeout_ms, "hello_timeout"},
                         {c.server.idle_timeout_ms, "idle_timeout"},
                         {c.server.frame_timeout_ms, "frame_timeout"},
                         {c.server.write_timeout_ms, "write_timeout"}})
    if (v < 1) p.push_back(std::string("server.") + name + " must be at least 1ms");
  if (c.limits.max_frame_bytes < kBatchHeaderBytes + kFrameHeaderBytes)
    p.push_back("limits.max_frame_bytes is too small to hold a batch");
  if (c.server.max_connection_inflight_bytes < c.limits.max_frame_bytes)
    p.push_back("server.max_connection_inflight_bytes must be at least limits.max_frame_bytes");
  if (c.server.max_inflight_bytes < c.server.max_connection_inflight_bytes)
    p.push_back("server.max_inflight_bytes must be at least server.max_connection_inflight_bytes");
  if (c.limits.max_records_per_batch < 1) p.push_back("limits.max_records_per_batch must be >= 1");
  if (c.limits.max_line_bytes < 1) p.push_back("limits.max_line_bytes must be >= 1");
  if (c.storage.write_buffer_bytes < (1u << 20))
    p.push_back("storage.write_buffer_bytes must be at least 1MiB");
  if (c.storage.max_open_files < 16 || c.storage.max_open_files > 1'000'000)
    p.push_back("storage.max_open_files must be 16..1000000");
  if (c.storage.max_group_bytes < c.limits.max_frame_bytes)
    p.push_back("storage.max_group_bytes must be at least limits.max_frame_bytes");
  if (c.lifecycle.silent_after_ms < 1) p.push_back("lifecycle.silent_after must be at least 1ms");
  std::vector<std::string> names;
  for (const auto& entry : c.enrollment.secrets) {
    auto s = parse_secret_entry(entry);
    if (!s)
      p.push_back("enrollment.secrets: \"" + entry + "\" must be NAME:FILE or NAME:FILE:PATTERN");
    else if (std::find(names.begin(), names.end(), s->name) != names.end())
      p.push_back("enrollment.secrets: the name \"" + s->name + "\" is used twice");
    else
      names.push_back(s->name);
  }
  if (c.enrollment.per_minute < 1 || c.enrollment.burst < 1)
    p.push_back("enrollment.per_minute and enrollment.burst must be at least 1");
  if (c.lifecycle.silent_check_interval_ms < 1)
    p.push_back("lifecycle.silent_check_interval must be at least 1ms");
  for (auto& problem : validate_tls(c)) p.push_back(std::move(problem));
  if (c.api.cert_file.empty() != c.api.key_file.empty())
    p.push_back("api.cert_file and api.key_file go together (HTTPS needs both), or neither");
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
  if (auto listen = parse_host_port(c.collector.listen)) {  // validate() refused anything else
    o.host = listen->host;
    o.port = listen->port;
  }
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
  o.time_skew_ns = time_skew_ns(c);
  o.reserved_fds =
      rocksdb_fd_reserve(static_cast<int>(c.storage.max_open_files)) + kReservedFdsBesidesRocksDb;
  return o;
}

std::int64_t retention_ns(const Config& c) {
  return static_cast<std::int64_t>(c.storage.retention_ms) * 1'000'000;
}

std::int64_t time_skew_ns(const Config& c) {
  return static_cast<std::int64_t>(c.storage.time_skew_ms) * 1'000'000;
}

StoreOptions store_options(const Config& c) {
  StoreOptions o;
  o.path = c.collector.data_dir;
  o.retention_ns = retention_ns(c);
  o.block_cache_bytes = c.storage.block_cache_bytes;
  o.write_buffer_bytes = c.storage.write_buffer_bytes;
  o.max_open_files = static_cast<int>(c.storage.max_open_files);
  return o;
}

WriterOptions writer_options(const Config& c) {
  WriterOptions o;
  o.sync = c.storage.sync_writes;
  o.max_group_bytes = c.storage.max_group_bytes;
  o.ledger.silent_after = std::chrono::milliseconds(c.lifecycle.silent_after_ms);
  return o;
}

bool enrollment_configured(const Config& c) { return !c.enrollment.secrets.empty(); }

Result<EnrollmentOptions> enrollment_options(const Config& c, std::string& why) {
  EnrollmentOptions o;
  o.per_minute = c.enrollment.per_minute;
  o.burst = c.enrollment.burst;
  for (const auto& entry : c.enrollment.secrets) {
    auto s = parse_secret_entry(entry);
    if (!s) {
      why = "enrollment.secrets: \"" + entry + "\" must be NAME:FILE or NAME:FILE:PATTERN";
      return Err(Errc::kInvalidArgument);
    }
    auto secret = read_secret_file(s->secret, why);
    if (!secret) {
      why = "enrollment secret \"" + s->name + "\": " + why;
      return secret.error();
    }
    s->secret = std::move(*secret);
    o.secrets.push_back(std::move(*s));
  }
  return o;
}

Result<std::string> auth_secret(const Config& c, std::string& why) {
  if (c.collector.auth_secret_file.empty()) return c.collector.auth_secret;
  return read_secret_file(c.collector.auth_secret_file, why);
}

}  // namespace blackbox::collector
