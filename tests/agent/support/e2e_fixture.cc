#include "tests/agent/support/e2e_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "schemas/record.h"

namespace blackbox::agent::testing {

Reassembled reassemble(const std::map<std::uint64_t, PeerRecord>& records) {
  Reassembled out;
  std::map<std::string, std::string> pending;  // source → line so far
  for (const auto& [seq, r] : records) {
    if (r.kind == RecordKind::kGap) {
      ++out.gaps;
      continue;
    }
    if (r.kind != RecordKind::kLog) continue;
    auto it = pending.find(r.source);
    std::string line;
    if (r.flags & record_flags::kSplitTail) {
      if (it != pending.end())
        line = std::move(it->second);
      else
        ++out.incomplete;  // a continuation without its head
    } else if (it != pending.end()) {
      ++out.incomplete;  // the earlier piece never got its continuation
    }
    if (it != pending.end()) pending.erase(it);
    line += r.line;
    if (r.flags & (record_flags::kSplitHead | record_flags::kPartial))
      pending[r.source] = std::move(line);
    else
      ++out.count[line];
  }
  out.incomplete += pending.size();
  return out;
}

std::string scrape(std::uint16_t port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    if (::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[4096];
      for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, n);
    }
  }
  ::close(fd);
  return out;
}

double metric(const std::string& text, const std::string& name) {
  const std::string key = "\n" + name + " ";
  auto pos = text.find(key);
  if (pos == std::string::npos) return -1;
  return std::strtod(text.c_str() + pos + key.size(), nullptr);
}

std::uint16_t metrics_port(const std::string& agent_log, std::size_t run) {
  // Restarted agents append to the same log: the port of the run-th start (1-based).
  const std::string key = "metrics listening on 127.0.0.1:";
  std::size_t pos = 0;
  for (std::size_t n = 1; (pos = agent_log.find(key, pos)) != std::string::npos; ++n) {
    pos += key.size();
    if (n == run)
      return static_cast<std::uint16_t>(std::strtoul(agent_log.c_str() + pos, nullptr, 10));
  }
  return 0;
}

bool agent_has_open(pid_t pid, const std::string& path) {
  std::error_code ec;
  const auto want = std::filesystem::canonical(path, ec);
  if (ec) return false;
  for (const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::error_code ec2;
    if (std::filesystem::read_symlink(e.path(), ec2) == want) return true;
  }
  return false;
}

void AgentE2E::SetUp() {
  peer_ = std::make_unique<TestPeer>();
  std::filesystem::create_directories(dir_ / "logs");
}

void AgentE2E::TearDown() {
  if (HasFailure()) {
    std::string log = agent_log();
    if (log.size() > 20000) log = "...\n" + log.substr(log.size() - 20000);
    std::cerr << "---- agent output ----\n" << log << "---- end ----\n";
  }
}

std::string AgentE2E::log_file(const std::string& name) const { return dir_ / ("logs/" + name); }

std::string AgentE2E::write_config(const std::map<std::string, std::string>& overrides) {
  // section.key → value (TOML text)
  std::map<std::string, std::map<std::string, std::string>> c;
  c["agent"]["instance_id"] = "\"i-e2e\"";
  c["agent"]["state_dir"] = "\"" + (dir_ / "state") + "\"";
  c["agent"]["metrics_listen"] = "\"\"";
  c["agent"]["image_id_file"] = "\"" + (dir_ / "no-image-id") + "\"";
  c["files"]["paths"] = "[\"" + (dir_ / "logs") + "/*.log\"]";
  c["files"]["poll_interval"] = "\"10ms\"";
  c["files"]["glob_interval"] = "\"30ms\"";
  c["files"]["partial_line_timeout"] = "\"300ms\"";
  c["files"]["rotate_wait"] = "\"1s\"";
  c["spool"]["batch_linger"] = "\"20ms\"";
  c["ship"]["collectors"] = "[\"" + peer_->address() + "\"]";
  c["ship"]["backoff_min"] = "\"20ms\"";
  c["ship"]["backoff_max"] = "\"300ms\"";
  c["ship"]["heartbeat_interval"] = "\"200ms\"";
  c["ship"]["ack_timeout"] = "\"5s\"";
  c["ship"]["connect_timeout"] = "\"1s\"";
  c["ship"]["shutdown_deadline"] = "\"10s\"";
  for (const auto& [k, v] : overrides) {
    auto dot = k.find('.');
    c[k.substr(0, dot)][k.substr(dot + 1)] = v;
  }
  std::string path = dir_ / "agent.toml";
  std::ofstream out(path);
  for (const auto& [section, keys] : c) {
    out << "[" << section << "]\n";
    for (const auto& [k, v] : keys) out << k << " = " << v << "\n";
  }
  return path;
}

std::unique_ptr<AgentProcess> AgentE2E::start_agent(const std::string& config,
                                                    std::vector<std::string> extra_args) {
  std::vector<std::string> args{"--config", config};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  return std::make_unique<AgentProcess>(agent_binary(), args, dir_ / "agent.out");
}

std::uint64_t AgentE2E::spool_bytes_on_disk() const {
  std::uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir_ / "state/spool", ec))
    if (e.path().extension() == ".seg") total += std::filesystem::file_size(e.path(), ec);
  return total;
}

FileWriter::FileWriter(const std::string& path) : path_(path) { reopen(); }

FileWriter::~FileWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void FileWriter::reopen() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::runtime_error("cannot open " + path_);
}

void FileWriter::write(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n <= 0) throw std::runtime_error("write failed");
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace blackbox::agent::testing
