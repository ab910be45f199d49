#include "agent/ship/send_window.h"

#include <gtest/gtest.h>

#include <chrono>

namespace blackbox::agent {
namespace {

using namespace std::chrono_literals;

BatchHeader batch(std::uint32_t stream, std::uint64_t first_seq, std::uint32_t records = 10) {
  BatchHeader h;
  h.stream = stream;
  h.first_seq = first_seq;
  h.record_count = records;
  return h;
}

SendWindowOptions options(std::uint32_t max_batches = 4, std::uint64_t max_bytes = 1000) {
  return SendWindowOptions{max_batches, max_bytes, std::chrono::nanoseconds(30s).count()};
}

TEST(SendWindow, FillsByBatchCountAndByBytes) {
  ManualClock clock;
  SendWindow by_count(options(2, 1'000'000), clock);
  by_count.start_session();
  EXPECT_TRUE(by_count.has_room());
  by_count.on_sent(batch(1, 0), 10);
  EXPECT_TRUE(by_count.has_room());
  by_count.on_sent(batch(1, 10), 10);
  EXPECT_FALSE(by_count.has_room());

  SendWindow by_bytes(options(100, 1000), clock);
  by_bytes.start_session();
  by_bytes.on_sent(batch(1, 0), 999);
  EXPECT_TRUE(by_bytes.has_room());  // under the cap: one more batch may go, whatever its size
  by_bytes.on_sent(batch(1, 10), 5000);
  EXPECT_FALSE(by_bytes.has_room());
  EXPECT_EQ(by_bytes.in_flight_bytes(), 5999u);
}

TEST(SendWindow, AnAckCompletesTheBatchesItCoversOnItsStreamOnly) {
  ManualClock clock;
  SendWindow w(options(), clock);
  w.start_session();
  w.on_sent(batch(1, 0), 100);
  w.on_sent(batch(2, 0), 100);
  w.on_sent(batch(1, 10), 100);
  auto ack = w.on_ack(1, 9);  // highest seq 9: the first batch of stream 1
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->trusted_end, 10u);
  EXPECT_FALSE(ack->clamped);
  EXPECT_EQ(ack->batches, 1u);
  EXPECT_EQ(ack->records, 10u);
  EXPECT_EQ(w.in_flight(), 2u);
  EXPECT_EQ(w.in_flight_bytes(), 200u);
  ack = w.on_ack(1, 19);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->batches, 1u);
  EXPECT_EQ(w.in_flight(), 1u);  // stream 2's batch waits for its own ACK
}

TEST(SendWindow, AnAckOfNothingIsIgnored) {
  ManualClock clock;
  SendWindow w(options(), clock);
  w.start_session();
  w.on_sent(batch(1, 0), 100);
  EXPECT_FALSE(w.on_ack(1, UINT64_MAX));
  EXPECT_EQ(w.in_flight(), 1u);
}

TEST(SendWindow, AnAckClaimingMoreThanWasSentIsTrustedOnlyUpToWhatWasSent) {
  ManualClock clock;
  SendWindow w(options(), clock);
  w.start_session();
  w.on_sent(batch(1, 0), 100);
  auto ack = w.on_ack(1, 1'000'000);
  ASSERT_TRUE(ack);
  EXPECT_TRUE(ack->clamped);
  EXPECT_EQ(ack->claimed_end, 1'000'001u);
  EXPECT_EQ(ack->trusted_end, 10u);
  EXPECT_EQ(w.in_flight(), 0u);
  // A stream never sent on this connection: nothing at all is trusted.
  ack = w.on_ack(7, 50);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->trusted_end, 0u);
}

TEST(SendWindow, ANewConnectionTrustsOnlyWhatItSentItself) {
  ManualClock clock;
  SendWindow w(options(), clock);
  w.start_session();
  w.on_sent(batch(1, 0), 100);
  w.on_sent(batch(1, 10), 100);
  w.start_session();
  EXPECT_EQ(w.in_flight(), 0u);
  EXPECT_EQ(w.sent_end(1), 0u);
  auto ack = w.on_ack(1, 19);  // a late ACK for the old connection's batches
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->trusted_end, 0u);
  EXPECT_TRUE(ack->clamped);
}

TEST(SendWindow, ResendsAreRecognisedAcrossConnections) {
  ManualClock clock;
  SendWindow w(options(), clock);
  w.start_session();
  EXPECT_FALSE(w.on_sent(batch(1, 0), 100));
  EXPECT_FALSE(w.on_sent(batch(1, 10), 100));
  w.start_session();
  EXPECT_TRUE(w.on_sent(batch(1, 0), 100));
  EXPECT_TRUE(w.on_sent(batch(1, 10), 100));
  EXPECT_FALSE(w.on_sent(batch(1, 20), 100));
  EXPECT_FALSE(w.on_sent(batch(2, 0), 100));  // another stream's first batch is new
}

TEST(SendWindow, ABatchRejectedTwiceInARowIsGivenUp) {
  ManualClock clock;
  SendWindow w(options(), clock);
  w.start_session();
  w.on_sent(batch(1, 0), 100);
  w.on_sent(batch(1, 10), 100);
  EXPECT_FALSE(w.on_rejection());  // once: maybe the connection, not the batch
  w.start_session();               // the collector closed it; resend from the spool
  w.on_sent(batch(1, 0), 100);
  auto dropped = w.on_rejection();
  ASSERT_TRUE(dropped);
  EXPECT_EQ(dropped->stream, 1u);
  EXPECT_EQ(dropped->first_seq, 0u);
  EXPECT_EQ(dropped->end_seq, 10u);
  EXPECT_EQ(dropped->records, 10u);
  // Given up: the count starts again for whatever is rejected next.
  w.start_session();
  w.on_sent(batch(1, 10), 100);
  EXPECT_FALSE(w.on_rejection());
}

TEST(SendWindow, ARejectionIsForgivenOnceTheBatchIsAcknowledgedOrAnotherIsBlamed) {
  ManualClock clock;
  SendWindow w(options(), clock);
  w.start_session();
  w.on_sent(batch(1, 0), 100);
  EXPECT_FALSE(w.on_rejection());
  w.start_session();
  w.on_sent(batch(1, 0), 100);
  ASSERT_TRUE(w.on_ack(1, 9));  // it went through after all
  w.on_sent(batch(1, 10), 100);
  EXPECT_FALSE(w.on_rejection());  // a new suspect: first strike
  w.start_session();
  w.on_sent(batch(2, 0), 100);
  EXPECT_FALSE(w.on_rejection());  // another batch blamed: the count restarts
  EXPECT_FALSE(SendWindow(options(), clock).on_rejection());  // nothing in flight
}

TEST(SendWindow, ConnectionIsStalledOnlyWhenBatchesWaitLongerThanTheAckTimeout) {
  ManualClock clock;
  SendWindow w(options(), clock);
  w.start_session();
  clock.advance(1h);
  EXPECT_FALSE(w.ack_overdue());  // nothing in flight: idle, not stalled
  w.on_sent(batch(1, 0), 100);    // the timer starts with the first batch in flight
  clock.advance(30s);
  EXPECT_FALSE(w.ack_overdue());
  clock.advance(1ns);
  EXPECT_TRUE(w.ack_overdue());
  w.on_sent(batch(1, 10), 100);
  ASSERT_TRUE(w.on_ack(1, 9));  // progress restarts the timer
  EXPECT_FALSE(w.ack_overdue());
  clock.advance(31s);
  EXPECT_TRUE(w.ack_overdue());
  w.start_session();
  EXPECT_FALSE(w.ack_overdue());
}

TEST(SendWindow, OnlyBatchLevelRejectionsBlameABatch) {
  EXPECT_TRUE(SendWindow::is_batch_rejection(Errc::kChecksumMismatch));
  EXPECT_TRUE(SendWindow::is_batch_rejection(Errc::kChainMismatch));
  EXPECT_TRUE(SendWindow::is_batch_rejection(Errc::kBatchTooLarge));
  EXPECT_FALSE(SendWindow::is_batch_rejection(Errc::kUnauthorized));
  EXPECT_FALSE(SendWindow::is_batch_rejection(Errc::kIdentityMismatch));
  EXPECT_FALSE(SendWindow::is_batch_rejection(Errc::kProtocolViolation));
  EXPECT_FALSE(SendWindow::is_batch_rejection(Errc::kBusy));
  EXPECT_FALSE(SendWindow::is_batch_rejection(Errc::kIo));
}

}  // namespace
}  // namespace blackbox::agent
