// Fuzz target for the agent's spool segment scanner (agent/spool/segment_scanner.h) and what
// spool recovery does with each entry it finds (the batch header, the checkpoint). Two ways in:
//  1. the input as a whole segment file (segment header, entries, damage, resync);
//  2. ctl byte & 1: the input after two bytes is cut into entry bodies that the target wraps
//     in a valid segment header and valid entry headers (a fuzzer rarely guesses a CRC32C), so
//     that the batch and checkpoint decoders see fuzzed bytes that got past the entry CRC. The
//     next byte picks a place to cut the file (a torn tail) and one byte to flip.
// The scanner reads through an in-memory FileOps holding the input, so no file is written.
// Checked: the scan result describes the file (damage in order, disjoint, inside the file;
// entries visited in order, disjoint from the damage); a file of valid entries scans clean; a
// torn copy keeps every entry before the cut; a checkpoint that decodes round-trips.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "agent/spool/checkpoint.h"
#include "agent/spool/file_ops.h"
#include "agent/spool/segment_format.h"
#include "agent/spool/segment_scanner.h"
#include "schemas/batch.h"
#include "schemas/bytes.h"
#include "tests/fuzz/round_trip.h"

namespace {

using namespace blackbox;
using namespace blackbox::agent;

// One read-only "file" in memory: fd 3 is `bytes`. Everything but reading fails with EROFS.
class MemoryFile final : public FileOps {
 public:
  explicit MemoryFile(std::string_view bytes) : bytes_(bytes) {}

  Result<UniqueFd> open(const std::string&, OpenMode) override { return fail(); }
  Result<std::size_t> pwritev(int, std::span<const struct iovec>, std::uint64_t) override {
    return fail();
  }
  Result<std::size_t> pread(int fd, char* buf, std::size_t len, std::uint64_t offset) override {
    if (fd != kFd) return fail();
    if (offset >= bytes_.size()) return std::size_t{0};
    // Short reads, as a real pread may return them: the scanner must loop.
    const std::size_t n = std::min({len, bytes_.size() - offset, std::size_t{4093}});
    std::memcpy(buf, bytes_.data() + offset, n);
    return n;
  }
  Result<void> fdatasync(int) override { return fail(); }
  Result<void> ftruncate(int, std::uint64_t) override { return fail(); }
  Result<std::uint64_t> file_size(int fd) override {
    if (fd != kFd) return fail();
    return std::uint64_t{bytes_.size()};
  }
  Result<void> rename(const std::string&, const std::string&) override { return fail(); }
  Result<void> link(const std::string&, const std::string&) override { return fail(); }
  Result<void> unlink(const std::string&) override { return fail(); }
  Result<void> sync_dir(const std::string&) override { return fail(); }
  Result<void> create_dirs(const std::string&) override { return fail(); }
  Result<std::vector<std::string>> list_dir(const std::string&) override { return fail(); }

  static constexpr int kFd = 3;

 private:
  static boost::system::error_code fail() { return {EROFS, boost::system::system_category()}; }
  std::string_view bytes_;
};

struct Visited {
  std::uint64_t offset, total;
};

struct Scanned {
  std::vector<Visited> entries;
  std::size_t damaged = 0;  // ranges
};

// Scans `file`, checks the result's invariants and returns the entries visited.
Scanned scan_and_check(std::string_view file) {
  MemoryFile ops(file);
  std::vector<Visited> seen;
  auto r = scan_segment(ops, MemoryFile::kFd,
                        [&](std::uint64_t offset, const EntryHeader& h, std::string_view header,
                            std::string_view body) {
                          if (header.size() != kEntryHeaderBytes || body.size() != h.body_len())
                            std::abort();
                          if (offset + h.total_len() > file.size()) std::abort();
                          if (!seen.empty() && offset < seen.back().offset + seen.back().total)
                            std::abort();
                          seen.push_back({offset, h.total_len()});
                          // What recovery does with the entry: the batch header, the checkpoint.
                          const std::string_view batch = body.substr(0, h.batch_len);
                          if (h.type == EntryType::kBatch && !parse_batch_header(batch).has_value())
                            std::abort();  // the scanner vouched for it
                          fuzz::check_round_trip<Checkpoint>(
                              body.substr(h.batch_len),
                              [](const Checkpoint& c) {
                                std::string out;
                                encode_stream_states(out, c.streams);
                                encode_file_positions(out, c.files);
                                return out;
                              },
                              decode_checkpoint);
                        });
  if (!r) std::abort();  // an in-memory read never fails
  if (r->file_size != file.size() || r->entries != seen.size() || r->valid_end > file.size())
    std::abort();
  std::uint64_t end = 0;
  for (const DamagedRange& d : r->damage) {
    // (An empty file is one damaged range of 0 bytes: no header, nothing lost.)
    if ((d.bytes == 0 && !file.empty()) || d.offset < end || d.offset + d.bytes > file.size())
      std::abort();
    for (const Visited& v : seen)
      if (v.offset < d.offset + d.bytes && d.offset < v.offset + v.total) std::abort();
    end = d.offset + d.bytes;
  }
  if (!seen.empty() && r->valid_end != seen.back().offset + seen.back().total) std::abort();
  return {std::move(seen), r->damage.size()};
}

// A valid segment whose entries carry the pieces of `in`, each a type byte (odd: a state
// entry, all checkpoint; even: a batch entry), a u16 length (cut to what is left) and the
// bytes. A batch entry's body splits into batch ‖ checkpoint after the batch its first bytes
// announce (at the middle when they announce none).
std::string build_segment(std::string_view in, std::size_t& entries, bool& all_valid) {
  std::string file = make_segment_header(7);
  entries = 0;
  all_valid = true;
  while (in.size() >= 3) {
    const bool state = (static_cast<std::uint8_t>(in[0]) & 1) != 0;
    const std::size_t len =
        std::min<std::size_t>(bytes::load_le<std::uint16_t>(in.data() + 1), in.size() - 3);
    const std::string_view body = in.substr(3, len);
    in.remove_prefix(3 + len);
    std::size_t cut = 0;
    if (!state) {
      auto bh = parse_batch_header(body);
      cut = bh ? std::min<std::size_t>(kBatchHeaderBytes + bh->stored_size, body.size())
               : body.size() / 2;
      if (cut == 0) continue;  // a batch entry has a batch
      all_valid = all_valid && parse_batch_header(body.substr(0, cut)).has_value();
    }
    const auto h = make_entry_header(state ? EntryType::kState : EntryType::kBatch,
                                     body.substr(0, cut), body.substr(cut));
    file.append(h.data(), h.size());
    file.append(body);
    ++entries;
  }
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  scan_and_check(in);
  if (size < 2 || (data[0] & 1) == 0) return 0;

  std::size_t entries = 0;
  bool all_valid = true;
  const std::string file = build_segment(in.substr(2), entries, all_valid);
  // An entry whose batch half is not a batch is damage (and the scan resyncs inside it), so
  // a clean scan is only required when every batch entry holds a batch.
  const Scanned whole = scan_and_check(file);
  if (all_valid && (whole.entries.size() != entries || whole.damaged != 0)) std::abort();

  // The same file torn at a point picked by the input: every entry before the cut survives.
  const std::size_t cut = kSegmentHeaderBytes + (file.size() - kSegmentHeaderBytes) * data[1] / 256;
  const Scanned torn = scan_and_check(std::string_view(file).substr(0, cut));
  std::size_t before_cut = 0;
  for (const Visited& v : whole.entries)
    if (v.offset + v.total <= cut) ++before_cut;
  if (torn.entries.size() < before_cut) std::abort();

  // ... and with one byte flipped: still a consistent description of the file.
  std::string flipped = file;
  flipped[(static_cast<std::size_t>(data[1]) * 7919) % flipped.size()] ^= 0x5a;
  scan_and_check(flipped);
  return 0;
}
