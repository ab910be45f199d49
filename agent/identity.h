// Who this agent speaks for (DESIGN.md contract 5): the instance id from the config, else
// cloud-init's instance data on disk, else /etc/machine-id — never a metadata service over
// the network; the image id from the config or a file baked into the image; the boot id; the
// hostname. Resolved once at startup.
#pragma once

#include <string>

#include "schemas/result.h"

namespace blackbox::agent {

struct IdentitySources {
  std::string instance_id;  // configured; wins when set
  std::string cloud_instance_id_file;
  std::string machine_id_file;
  std::string image_id;  // configured; wins when set
  std::string image_id_file;
  std::string boot_id_file;
};

struct Identity {
  std::string instance_id;
  std::string instance_id_source;  // "config", the file it came from
  std::string image_id;
  std::string boot_id;
  std::string hostname;
};

// A valid instance id: 1..256 bytes of printable ASCII without spaces (PROTOCOL.md §2.1).
bool valid_instance_id(std::string_view id);

// Errors: kNotFound when no source yields a valid instance id (`problem` says what to set),
// kInvalidArgument for a configured id that is not valid.
[[nodiscard]] Result<Identity> resolve_identity(const IdentitySources& sources,
                                                std::string& problem);

}  // namespace blackbox::agent
