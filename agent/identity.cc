#include "agent/identity.h"

#include <unistd.h>

#include "agent/util/unique_fd.h"

namespace blackbox::agent {

namespace {

std::string trimmed(std::string s) {
  auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!s.empty() && is_space(s.back())) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && is_space(s[i])) ++i;
  return s.substr(i);
}

std::string file_value(const std::string& path) {
  if (path.empty()) return {};
  auto text = read_small_file(path, 4096);
  return text ? trimmed(*text) : std::string();
}

}  // namespace

bool valid_instance_id(std::string_view id) {
  if (id.empty() || id.size() > 256) return false;
  for (char c : id)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

Result<Identity> resolve_identity(const IdentitySources& src, std::string& problem) {
  Identity id;
  if (!src.instance_id.empty()) {
    if (!valid_instance_id(src.instance_id)) {
      problem = "agent.instance_id \"" + src.instance_id +
                "\" is not 1..256 printable ASCII characters without spaces";
      return Err(Errc::kInvalidArgument);
    }
    id.instance_id = src.instance_id;
    id.instance_id_source = "config";
  } else {
    for (const auto* path : {&src.cloud_instance_id_file, &src.machine_id_file}) {
      auto v = file_value(*path);
      if (valid_instance_id(v)) {
        id.instance_id = v;
        id.instance_id_source = *path;
        break;
      }
    }
    if (id.instance_id.empty()) {
      problem = "no instance id: set agent.instance_id (or --instance-id); neither " +
                src.cloud_instance_id_file + " nor " + src.machine_id_file + " holds one";
      return Err(Errc::kNotFound);
    }
  }
  id.image_id = !src.image_id.empty() ? src.image_id : file_value(src.image_id_file);
  id.boot_id = file_value(src.boot_id_file);
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) id.hostname = host;
  return id;
}

}  // namespace blackbox::agent
