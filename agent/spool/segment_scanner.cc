#include "agent/spool/segment_scanner.h"

#include <cstring>

#include "schemas/batch.h"
#include "schemas/bytes.h"

namespace blackbox::agent {

namespace {

constexpr std::size_t kSearchWindow = 256 * 1024;

class Scanner {
 public:
  Scanner(FileOps& ops, int fd, std::uint64_t size) : ops_(ops), fd_(fd), size_(size) {}

  // Tries to read a valid entry at `offset`. Returns its total length, 0 when there is none,
  // or an I/O error.
  Result<std::uint64_t> try_entry(std::uint64_t offset, const EntryVisitor* visit) {
    if (size_ - offset < kEntryHeaderBytes) return std::uint64_t{0};
    char hb[kEntryHeaderBytes];
    auto n = pread_full_at(ops_, fd_, hb, sizeof hb, offset);
    if (!n) return n.error();
    if (*n < sizeof hb) return std::uint64_t{0};
    std::string_view header(hb, sizeof hb);
    auto h = parse_entry_header(header);
    if (!h) return std::uint64_t{0};
    if (h->total_len() > size_ - offset) return std::uint64_t{0};
    body_.resize(static_cast<std::size_t>(h->body_len()));
    auto m = pread_full_at(ops_, fd_, body_.data(), body_.size(), offset + kEntryHeaderBytes);
    if (!m) return m.error();
    if (*m < body_.size() || !entry_crc_ok(*h, header, body_)) return std::uint64_t{0};
    if (h->type == EntryType::kBatch) {
      // The entry CRC says these are the bytes written; the batch must still be one.
      auto bh = parse_batch_header(std::string_view(body_).substr(0, h->batch_len));
      if (!bh) return std::uint64_t{0};
    }
    if (visit && *visit) (*visit)(offset, *h, header, body_);
    return h->total_len();
  }

  // The offset of the next valid entry after `from`, or size_ when there is none.
  Result<std::uint64_t> resync(std::uint64_t from) {
    std::string window;
    char magic[4];
    bytes::store_le<std::uint32_t>(magic, kEntryMagic);
    std::uint64_t pos = from + 1;
    while (pos + kEntryHeaderBytes <= size_) {
      std::size_t len =
          static_cast<std::size_t>(std::min<std::uint64_t>(kSearchWindow, size_ - pos));
      window.resize(len);
      auto n = pread_full_at(ops_, fd_, window.data(), len, pos);
      if (!n) return n.error();
      window.resize(*n);
      if (window.size() < 4) break;
      std::size_t i = 0;
      while (i + 4 <= window.size()) {
        const void* hit = std::memchr(window.data() + i, magic[0], window.size() - 3 - i);
        if (!hit) break;
        i = static_cast<std::size_t>(static_cast<const char*>(hit) - window.data());
        if (std::memcmp(window.data() + i, magic, 4) == 0) {
          auto len_found = try_entry(pos + i, nullptr);
          if (!len_found) return len_found.error();
          if (*len_found > 0) return pos + i;
        }
        ++i;
      }
      // Step so that a magic straddling the window edge is still seen.
      pos += window.size() >= 3 ? window.size() - 3 : window.size();
    }
    return size_;
  }

 private:
  FileOps& ops_;
  int fd_;
  std::uint64_t size_;
  std::string body_;
};

}  // namespace

Result<SegmentScanResult> scan_segment(FileOps& ops, int fd, const EntryVisitor& visit) {
  auto size = ops.file_size(fd);
  if (!size) return size.error();
  SegmentScanResult r;
  r.file_size = *size;
  char seg_header[kSegmentHeaderBytes];
  auto n = pread_full_at(ops, fd, seg_header, sizeof seg_header, 0);
  if (!n) return n.error();
  r.header_ok = *n == sizeof seg_header &&
                parse_segment_header(std::string_view(seg_header, sizeof seg_header)).has_value();
  if (r.file_size <= kSegmentHeaderBytes) {
    r.valid_end = r.file_size;
    if (!r.header_ok) r.damage.push_back({0, r.file_size});
    return r;
  }
  Scanner scanner(ops, fd, r.file_size);
  std::uint64_t offset = kSegmentHeaderBytes;
  r.valid_end = offset;
  if (!r.header_ok) r.damage.push_back({0, kSegmentHeaderBytes});
  while (offset < r.file_size) {
    auto len = scanner.try_entry(offset, &visit);
    if (!len) return len.error();
    if (*len > 0) {
      offset += *len;
      r.valid_end = offset;
      ++r.entries;
      continue;
    }
    auto next = scanner.resync(offset);
    if (!next) return next.error();
    if (!r.damage.empty() && r.damage.back().offset + r.damage.back().bytes == offset)
      r.damage.back().bytes += *next - offset;
    else
      r.damage.push_back({offset, *next - offset});
    offset = *next;
  }
  return r;
}

}  // namespace blackbox::agent
