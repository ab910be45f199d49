#include "tests/agent/support/agent_process.h"

namespace blackbox::agent::testing {

std::string agent_binary() {
#ifdef BLACKBOX_AGENT_BIN
  return BLACKBOX_AGENT_BIN;
#else
  return "blackbox-agent";
#endif
}

}  // namespace blackbox::agent::testing
