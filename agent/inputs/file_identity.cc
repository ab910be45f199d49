#include "agent/inputs/file_identity.h"

#include <string>

#include "agent/util/unique_fd.h"
#include "schemas/crc32c.h"

namespace blackbox::agent {

Result<Fingerprint> read_fingerprint(int fd, std::uint32_t max_len) {
  std::string buf(max_len, '\0');
  auto n = pread_full(fd, buf.data(), buf.size(), 0);
  if (!n) return n.error();
  return Fingerprint{static_cast<std::uint32_t>(*n),
                     crc32c::value(std::string_view(buf.data(), *n))};
}

Result<bool> fingerprint_matches(int fd, const Fingerprint& fp) {
  auto now = read_fingerprint(fd, fp.len);
  if (!now) return Result<bool>(boost::system::in_place_error, now.error());
  return *now == fp;
}

}  // namespace blackbox::agent
