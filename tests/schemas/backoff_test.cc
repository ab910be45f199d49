#include "schemas/backoff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace blackbox {
namespace {

using std::chrono::milliseconds;

// The n-th delay (0-based) lies in [min, min(max, min·2^n)].
TEST(Backoff, DelaysStayWithinFullJitterBounds) {
  for (std::uint64_t seed : {1ull, 2ull, 42ull, 0xdeadbeefull}) {
    Backoff b(milliseconds(100), milliseconds(10'000), seed);
    for (std::uint32_t n = 0; n < 200; ++n) {
      const auto d = b.next();
      const std::int64_t cap = std::min<std::int64_t>(10'000, n >= 20 ? 10'000 : 100ll << n);
      ASSERT_GE(d.count(), 100) << "attempt " << n;
      ASSERT_LE(d.count(), cap) << "attempt " << n;
    }
    EXPECT_EQ(b.attempts(), 200u);
  }
}

TEST(Backoff, ReachesTheMaximumEventually) {
  Backoff b(milliseconds(10), milliseconds(1'000), 7);
  std::int64_t biggest = 0;
  for (int i = 0; i < 300; ++i) biggest = std::max<std::int64_t>(biggest, b.next().count());
  EXPECT_GT(biggest, 500);  // uniform in [10, 1000] from attempt 7 on: almost surely
  EXPECT_LE(biggest, 1'000);
}

TEST(Backoff, ResetStartsOverAtTheMinimum) {
  Backoff b(milliseconds(50), milliseconds(60'000), 3);
  for (int i = 0; i < 30; ++i) (void)b.next();  // discard: only the state after matters
  b.reset();
  EXPECT_EQ(b.attempts(), 0u);
  EXPECT_EQ(b.next(), milliseconds(50));  // first delay: uniform in [50, 50]
}

TEST(Backoff, IsDeterministicForASeed) {
  Backoff a(milliseconds(1), milliseconds(5'000), 99), b(milliseconds(1), milliseconds(5'000), 99);
  for (int i = 0; i < 50; ++i) ASSERT_EQ(a.next(), b.next());
}

TEST(Backoff, MinAboveMaxNeverGoesBelowMin) {
  Backoff b(milliseconds(500), milliseconds(100), 5);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(b.next(), milliseconds(500));
}

TEST(Backoff, HugeAttemptCountsDoNotOverflow) {
  Backoff b(milliseconds(1'000), milliseconds(30'000), 11);
  for (int i = 0; i < 100'000; ++i) {
    const auto d = b.next();
    ASSERT_GE(d.count(), 1'000);
    ASSERT_LE(d.count(), 30'000);
  }
}

}  // namespace
}  // namespace blackbox
