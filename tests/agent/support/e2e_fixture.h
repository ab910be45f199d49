// Shared scaffolding of the agent's end-to-end tests: a temp dir, a test peer, a config with
// fast intervals, the real blackbox-agent process, and helpers to turn the records the peer
// holds back into lines.
#pragma once

#include <chrono>

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/agent/support/agent_process.h"
#include "tests/agent/support/temp_dir.h"
#include "tests/agent/support/test_peer.h"

namespace blackbox::agent::testing {

// How long a test waits for something that must happen (a connection, an exit, records
// arriving) before it fails instead of hanging. A bound for a broken build, never a pace:
// generous, so that a slow or loaded machine passes.
inline constexpr std::chrono::seconds kDeadline{120};

// Lines reassembled from log records (split and partial pieces joined per source).
struct Reassembled {
  std::map<std::string, int> count;  // line → how many times it arrived
  std::size_t incomplete = 0;        // pieces whose continuation never came
  std::size_t gaps = 0;              // kGap records
};
Reassembled reassemble(const std::map<std::uint64_t, PeerRecord>& records);

// The agent's metrics endpoint: the port its run-th start logged ("metrics listening on
// 127.0.0.1:PORT"; 0 if not yet), a scrape of GET `path` (/metrics or /health; the whole
// HTTP response, "" on failure), one series'
// value (-1 when absent).
std::uint16_t metrics_port(const std::string& agent_log, std::size_t run = 1);
std::string scrape(std::uint16_t port, const std::string& path = "/metrics");
double metric(const std::string& text, const std::string& name);

// Whether process `pid` holds `path` open (the inode at that path right now).
bool agent_has_open(pid_t pid, const std::string& path);

class AgentE2E : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The agent config: fast intervals; `extra` is appended (later keys of a section must
  // then be written by the test in full — use the overrides map instead).
  std::string write_config(const std::map<std::string, std::string>& overrides = {});
  std::unique_ptr<AgentProcess> start_agent(const std::string& config,
                                            std::vector<std::string> extra_args = {});
  std::string log_file(const std::string& name = "app.log") const;
  std::string agent_log() const { return slurp(dir_ / "agent.out"); }
  std::uint64_t spool_bytes_on_disk() const;

  TempDir dir_;
  std::unique_ptr<TestPeer> peer_;
};

// Appends to a file with O_APPEND, as applications do.
class FileWriter {
 public:
  explicit FileWriter(const std::string& path);
  ~FileWriter();
  void write(std::string_view data);
  void reopen();  // after a rename/delete rotation: create the file again

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace blackbox::agent::testing
