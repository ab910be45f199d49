// The agent tests' name for the one temp dir of all tests (tests/support/temp_dir.h).
#pragma once

#include "tests/support/temp_dir.h"

namespace blackbox::agent::testing {

using blackbox::testing::TempDir;

}  // namespace blackbox::agent::testing
