#include "schemas/hex.h"

#include <boost/algorithm/hex.hpp>

#include <iterator>

namespace blackbox {

std::string hex_lower(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  boost::algorithm::hex_lower(bytes.begin(), bytes.end(), std::back_inserter(out));
  return out;
}

Result<std::string> unhex(std::string_view hex) {
  std::string out;
  try {
    boost::algorithm::unhex(hex.begin(), hex.end(), std::back_inserter(out));
  } catch (const boost::algorithm::hex_decode_error&) {
    return Err(Errc::kInvalidArgument);
  }
  return out;
}

}  // namespace blackbox
