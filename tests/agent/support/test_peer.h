// Moved to tests/support/test_peer.h (part of blackbox_test_support, which benchmarks link).
#pragma once

#include "tests/support/test_peer.h"
