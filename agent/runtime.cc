#include "agent/runtime.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "agent/agent_metrics.h"
#include "agent/control_socket.h"
#include "agent/identity.h"
#include "agent/metrics_server.h"
#include "agent/pipeline/head_signer.h"
#include "agent/pipeline/pipeline.h"
#include "agent/ship/credentials.h"
#include "agent/ship/shipper.h"
#include "agent/ship/transport.h"
#include "agent/spool/spool.h"
#include "agent/util/unique_fd.h"
#include "schemas/clock.h"
#include "schemas/ed25519.h"
#include "schemas/gap_body.h"
#include "schemas/lifecycle_body.h"
#include "schemas/streams.h"

namespace blackbox::agent {

namespace {

using SteadyClock = std::chrono::steady_clock;

ShipperOptions shipper_options(const Config& c, const Identity& id, const char* version) {
  ShipperOptions o;
  o.collectors = c.ship.collectors;
  o.hello.instance_id = id.instance_id;
  o.hello.image_id = id.image_id;
  o.hello.boot_id = id.boot_id;
  o.hello.hostname = id.hostname;
  o.hello.agent_version = version;
  o.hello.token = c.ship.token;
  o.window_batches = c.ship.window_batches;
  o.window_bytes = c.ship.window_bytes;
  o.connect_timeout = std::chrono::milliseconds(c.ship.connect_timeout_ms);
  o.handshake_timeout = std::chrono::milliseconds(c.ship.handshake_timeout_ms);
  o.ack_timeout = std::chrono::milliseconds(c.ship.ack_timeout_ms);
  o.heartbeat_interval = std::chrono::milliseconds(c.ship.heartbeat_interval_ms);
  o.backoff_min = std::chrono::milliseconds(c.ship.backoff_min_ms);
  o.backoff_max = std::chrono::milliseconds(c.ship.backoff_max_ms);
  o.stall_timeout = std::chrono::milliseconds(c.ship.stall_timeout_ms);
  o.limits.max_frame_bytes = 1u << 20;  // the collector only sends small frames
  return o;
}

PipelineOptions pipeline_options(const Config& c) {
  PipelineOptions o;
  o.files = file_input_options(c);
  o.cutter.batch_bytes = c.spool.batch_bytes;
  o.cutter.max_records = c.spool.max_records_per_batch;
  o.cutter.linger_ns = std::int64_t{c.spool.batch_linger_ms} * 1'000'000;
  o.cutter.parse_json = c.files.parse_json;
  o.poll_interval_ns = std::int64_t{c.files.poll_interval_ms} * 1'000'000;
  o.glob_interval_ns = std::int64_t{c.files.glob_interval_ms} * 1'000'000;
  o.compression_level = c.spool.compression_level;
  o.fsync = fsync_policy(c);
  o.fsync_interval_ns = std::int64_t{c.spool.fsync_interval_ms} * 1'000'000;
  return o;
}

// The state dir exists and this process holds its lock (one agent per state dir), or a
// message was logged and the fd is empty.
UniqueFd lock_state_dir(const Config& c) {
  std::error_code fs_ec;
  std::filesystem::create_directories(c.agent.state_dir, fs_ec);
  if (fs_ec) {
    spdlog::critical("cannot create state dir {}: {}", c.agent.state_dir, fs_ec.message());
    return UniqueFd();
  }
  UniqueFd lock(::open(c.lock_path().c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock || ::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    spdlog::critical("another blackbox-agent is running with state dir {} (lock {}: {})",
                     c.agent.state_dir, c.lock_path(), std::strerror(errno));
    return UniqueFd();
  }
  return lock;
}

// The first records of a run: the hello lifecycle record, and a gap record for every damaged
// spool range and every other instance's batches that recovery found.
void record_startup(Pipeline& pipeline, const Identity& id, const char* version,
                    const RecoveryReport& recovered) {
  const auto startup_deadline = SteadyClock::now() + std::chrono::seconds(10);
  HelloBody hello{
      version,
      id.instance_id_source,
      id.image_id,
      id.boot_id,
      id.hostname,
      {recovered.fresh, recovered.batches, recovered.truncated_bytes, recovered.damage.size()}};
  pipeline.append_record(kStreamLifecycle, RecordKind::kLifecycle, Severity::kInfo, "agent",
                         encode_lifecycle_body(hello), startup_deadline);
  for (const auto& f : recovered.foreign) {
    // Never relabelled: this agent's credentials speak for its own instance id only, so the
    // other instance's records wait where they are for someone who can ship them as theirs.
    const std::string note = fmt::format(
        "{} batches ({} records, {} bytes) written by instance {} (boot {}) were found in this "
        "agent's spool and set aside in {}: this agent cannot authenticate as {}. Ship them "
        "with an agent configured as {}, or remove them.",
        f.batches, f.records, f.bytes, f.identity.instance_id,
        f.identity.boot_id.empty() ? "-" : f.identity.boot_id, f.moved_to, f.identity.instance_id,
        f.identity.instance_id);
    spdlog::warn("spool: {}", note);
    GapBody gap(gap_reason::kSpoolForeign, "spool");
    gap.records = f.records;
    gap.lost_bytes = f.bytes;
    gap.note = note;
    pipeline.append_record(kStreamLogs, RecordKind::kGap, Severity::kWarning, "spool",
                           encode_gap_body(gap), startup_deadline);
  }
  for (const auto& d : recovered.damage) {
    GapBody gap(gap_reason::kSpoolDamaged, "spool");
    gap.segment = d.segment;
    gap.offset = d.offset;
    gap.lost_bytes = d.bytes;
    pipeline.append_record(kStreamLogs, RecordKind::kGap, Severity::kWarning, "spool",
                           encode_gap_body(gap), startup_deadline);
  }
}

// The control socket's termination notice: remembered for GOODBYE, spooled at once.
class NoticeHandler {
 public:
  NoticeHandler(Pipeline& pipeline, AgentMetrics& metrics)
      : pipeline_(pipeline), metrics_(metrics) {}

  std::string operator()(std::string_view request) {
    constexpr std::string_view kNotice = "termination-notice";
    if (request.substr(0, kNotice.size()) != kNotice) return "error unknown request";
    std::string reason(request.substr(std::min(request.size(), kNotice.size() + 1)));
    if (reason.empty()) reason = "termination notice";
    metrics_.termination_notices.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard lk(mu_);
      notice_ = reason;
    }
    spdlog::warn("termination notice: {}", reason);
    const auto until = SteadyClock::now() + std::chrono::seconds(5);
    if (pipeline_.append_record(kStreamLifecycle, RecordKind::kLifecycle, Severity::kWarning,
                                "agent", encode_lifecycle_body(TerminationNoticeBody{reason}),
                                until) == 0 ||
        !pipeline_.flush(until))
      return "error termination notice recorded, but the spool did not confirm within 5 s";
    return "ok termination notice recorded and spooled; shipping now";
  }

  // The last notice's reason; empty if none came.
  std::string last() const {
    std::lock_guard lk(mu_);
    return notice_;
  }

 private:
  Pipeline& pipeline_;
  AgentMetrics& metrics_;
  mutable std::mutex mu_;
  std::string notice_;
};

// Waits for SIGTERM or SIGINT (blocked by main). Returns the signal, or 0 when the pipeline
// failed first.
int wait_for_stop_signal(const Pipeline& pipeline) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  while (!pipeline.failed()) {
    timespec tick{0, 200'000'000};
    const int got = ::sigtimedwait(&set, nullptr, &tick);
    if (pipeline.failed()) break;
    if (got > 0) return got;
  }
  return 0;
}

// The last gasp (DESIGN.md contract 7): drain the inputs, spool the goodbye record, ship and
// wait for ACKs, all against one deadline; what is left stays in the spool.
void last_gasp(const Config& c, int sig, const std::string& notice_reason, Pipeline& pipeline,
               HeadSigner& signer, Shipper& shipper, Spool& sp) {
  const auto start = SteadyClock::now();
  const auto deadline = start + std::chrono::milliseconds(c.ship.shutdown_deadline_ms);
  const auto goodbye_at =
      deadline - std::min<SteadyClock::duration>(std::chrono::seconds(2), (deadline - start) / 5);
  std::string reason = sig == SIGTERM ? "sigterm" : "sigint";
  spdlog::info("{}: last gasp: draining inputs, shipping, waiting up to {} ms for ACKs", reason,
               c.ship.shutdown_deadline_ms);
  const bool drained = pipeline.drain_inputs(goodbye_at);
  GoodbyeBody bye{reason, !notice_reason.empty(), std::nullopt};
  if (!notice_reason.empty()) bye.termination_notice = notice_reason;
  const auto ticket =
      pipeline.append_record(kStreamLifecycle, RecordKind::kLifecycle, Severity::kNotice, "agent",
                             encode_lifecycle_body(bye), goodbye_at);
  bool spooled = drained && ticket != 0 && pipeline.wait_durable(ticket, goodbye_at);
  // The final signature covers everything spooled, the goodbye record included.
  signer.stop();
  if (const auto signed_ticket = signer.sign_now(goodbye_at); spooled)
    spooled = signed_ticket != 0 && pipeline.wait_durable(signed_ticket, goodbye_at);
  Goodbye goodbye;
  goodbye.reason =
      notice_reason.empty() ? reason : reason + " after termination notice: " + notice_reason;
  goodbye.after_termination_notice = !notice_reason.empty();
  const bool shipped = shipper.finish(goodbye, goodbye_at, deadline);
  pipeline.stop();
  sp.set_on_publish(nullptr);
  if (auto s = sp.sync(); !s) spdlog::error("spool: final sync failed");
  if (auto t = sp.trim(); !t) spdlog::warn("spool: cannot trim acknowledged segments");
  const auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start);
  if (spooled && shipped)
    spdlog::info("last gasp done in {} ms: everything acknowledged, GOODBYE exchanged",
                 took.count());
  else
    spdlog::warn(
        "last gasp ended after {} ms: inputs {}, acknowledged {}; what is left stays "
        "in the spool",
        took.count(), spooled ? "spooled" : "NOT fully spooled", shipped ? "all" : "NOT all");
}

}  // namespace

// Builds the agent from its parts and runs it until a signal; then the last gasp. The order
// of construction is the order of dependencies (spool → pipeline → shipper → servers).
int run_agent(const Config& c, const char* version) {
  UniqueFd lock = lock_state_dir(c);
  if (!lock) return 1;

  std::string problem;
  auto identity = resolve_identity(
      IdentitySources{c.agent.instance_id, c.agent.cloud_instance_id_file, c.agent.machine_id_file,
                      c.agent.image_id, c.agent.image_id_file, c.agent.boot_id_file},
      problem);
  if (!identity) {
    spdlog::critical("{}", problem);
    return 1;
  }
  spdlog::info("blackbox-agent {} starting: instance {} (from {}), image {}, boot {}, host {}",
               version, identity->instance_id, identity->instance_id_source,
               identity->image_id.empty() ? "-" : identity->image_id,
               identity->boot_id.empty() ? "-" : identity->boot_id, identity->hostname);

  // The instance's own key (issue 12): made on first start, loaded once, shared by whoever
  // signs with it (the shipper's key auth, the head signer).
  auto key = Ed25519Key::load_or_create(c.instance_key_path(), problem);
  if (!key) {
    spdlog::critical("instance key: {}", problem);
    return 1;
  }
  const auto instance_key = std::make_shared<const Ed25519Key>(std::move(*key));
  // Logged at every start, so that a copy of the fingerprint exists beside the collector's
  // (SECURITY.md: `blackbox verify` checks signatures against the key the collector enrolled).
  spdlog::info("instance key {} ({})", ed25519_fingerprint(instance_key->public_key()),
               c.instance_key_path());

  RecoveryReport recovered;
  SpoolOptions spool_opts = spool_options(c);
  spool_opts.identity = {identity->instance_id, identity->boot_id};
  auto spool = Spool::open(spool_opts, recovered);
  if (!spool) {
    spdlog::critical("spool: cannot open {}: {}", c.spool_dir(), spool.error().message());
    return 1;
  }
  spdlog::info(
      "spool: {} ({} segments, {} batches waiting, {} bytes; torn tail {} bytes; {} "
      "damaged ranges)",
      recovered.fresh ? "new" : "recovered", recovered.segments, recovered.batches,
      (*spool)->bytes(), recovered.truncated_bytes, recovered.damage.size());

  Metrics registry;
  AgentMetrics metrics(registry);
  Spool& sp = **spool;
  registry.gauge("blackbox_agent_spool_bytes", "Bytes in the spool (segments on disk)",
                 [&sp] { return static_cast<double>(sp.bytes()); });
  registry.gauge("blackbox_agent_spool_unlink_failures",
                 "Acknowledged spool segments that could not be removed (kept, retried)",
                 [&sp] { return static_cast<double>(sp.unlink_failures()); });

  SystemClock clock;
  Pipeline pipeline(pipeline_options(c), sp, recovered, metrics, clock);
  HeadSigner signer(
      HeadSignerOptions{identity->instance_id, instance_key,
                        std::chrono::milliseconds(c.spool.sign_interval_ms)},
      pipeline, clock, recovered.state);
  pipeline.set_on_spooled([&signer](std::uint32_t stream, std::uint64_t next_seq,
                                    const ChainHash& head) {
    signer.on_spooled(stream, next_seq, head);
  });
  ShipperHooks hooks;
  hooks.on_collector_position = [&pipeline](const StreamPosition& pos) {
    pipeline.sealer().raise_floor(pos.stream, pos.next_seq, pos.head);
  };
  hooks.on_gap = [&pipeline](std::string gap) {
    // On the network thread: never block it for long (the spool may be full).
    pipeline.append_record(kStreamLogs, RecordKind::kGap, Severity::kWarning, "agent", gap,
                           SteadyClock::now() + std::chrono::seconds(1));
  };
  ShipperOptions ship_opts = shipper_options(c, *identity, version);
  if (c.ship.tls) {
    auto tls = ClientTls::create(ClientTlsOptions{c.ship.tls_ca_file, c.ship.tls_server_name,
                                                  c.ship.tls_cert_file, c.ship.tls_key_file,
                                                  c.ship.tls_min_version},
                                 problem);
    if (!tls) {
      spdlog::critical("ship: TLS: {}", problem);
      return 1;
    }
    ship_opts.tls = std::move(*tls);
  }
  if (auto ok = set_ship_credentials(c, instance_key, ship_opts, problem); !ok) {
    spdlog::critical("ship: {}", problem);
    return 1;
  }
  Shipper shipper(std::move(ship_opts), sp, metrics, std::move(hooks));
  registry.gauge("blackbox_agent_connected", "1 while a collector session is up",
                 [&shipper] { return shipper.connected() ? 1.0 : 0.0; });
  sp.set_on_publish([&shipper] { shipper.wake(); });

  pipeline.start();
  shipper.start();  // before anything waits for room in the spool: only ACKs make room
  record_startup(pipeline, *identity, version, recovered);
  signer.start();

  std::unique_ptr<MetricsServer> metrics_server;
  if (!c.agent.metrics_listen.empty()) {
    auto m = MetricsServer::start(c.agent.metrics_listen, registry, metrics.health);
    if (!m) {
      spdlog::critical(
          "cannot serve metrics on {} (set agent.metrics_listen, or \"\" to "
          "disable)",
          c.agent.metrics_listen);
      pipeline.stop();
      shipper.stop();
      return 1;
    }
    metrics_server = std::move(*m);
  }

  NoticeHandler notices(pipeline, metrics);
  auto control = ControlServer::start(c.control_socket_path(),
                                      [&notices](std::string_view req) { return notices(req); });
  if (!control) {
    spdlog::critical("cannot open the control socket {}", c.control_socket_path());
    pipeline.stop();
    shipper.stop();
    return 1;
  }

  const int sig = wait_for_stop_signal(pipeline);
  control->reset();
  if (sig == 0) {
    spdlog::critical("fatal error in the spool pipeline: exiting without acknowledging more");
    shipper.stop();
    pipeline.stop();
    return 3;
  }
  last_gasp(c, sig, notices.last(), pipeline, signer, shipper, sp);
  return 0;
}

}  // namespace blackbox::agent
