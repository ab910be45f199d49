// Session: one agent connection (schemas/frame.h protocol). HELLO first (identity and token
// checked; the instance of every later batch is the HELLO's, contract 5) → WELCOME with the
// stream resume points; then BATCH / HEARTBEAT / GOODBYE frames. Each BATCH is verified and
// indexed on the server's IndexPool (never on the I/O thread; the reader waits for it, so the
// batches of one connection reach the writer, and are acknowledged, in the order received),
// handed to the IngestWriter, and acknowledged (cumulative ACK per stream) only when the
// writer reports it durable. A frame's bytes are leased from the connection's and the global
// MemoryBudget before its payload is read, and given back when the writer is done with it.
//
// Two coroutines on the session's strand: the reader (frames in) and the sender (WELCOME, ACK,
// GOODBYE, ERROR out); a watchdog timer enforces the read and write deadlines. Any malformed or
// over-limit input: ERROR frame (code + message), counter, close — after the ACKs of batches
// already in flight.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "collector/server/ingest_stream.h"
#include "collector/server/enrollment.h"
#include "collector/server/memory_budget.h"
#include "collector/server/server.h"
#include "schemas/frame.h"

namespace blackbox::collector {

class Session : public std::enable_shared_from_this<Session> {
 public:
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;
  Session(boost::asio::ip::tcp::socket socket, Strand strand, std::shared_ptr<SessionContext> ctx);
  ~Session();

  // Spawns the coroutines on the strand. Call once.
  void start();
  // Shutdown: stop reading, acknowledge what is in flight, send ERROR kUnavailable, close.
  // Any thread.
  void drain();

 private:
  using Clock = std::chrono::steady_clock;

  boost::asio::awaitable<void> reader();
  boost::asio::awaitable<void> sender();
  boost::asio::awaitable<void> watchdog();

  // Reads one frame into `payload`; false when the session must end (error already queued
  // or the peer went away).
  boost::asio::awaitable<bool> read_frame(FrameHeader& header, std::string& payload,
                                          std::uint32_t max_length);
  // Leases `n` bytes into frame_lease_, waiting (not reading) while the budgets are spent.
  boost::asio::awaitable<bool> await_budget(std::size_t n);
  // Waits until outcome_ (a submit_awaited() completion) or indexed_ (an IndexPool result) is
  // set, or the session closes.
  boost::asio::awaitable<void> await_answer();
  // Hands a BATCH payload to the IndexPool and waits for its verdict, then finish_batch().
  boost::asio::awaitable<void> index_batch(std::string& payload);

  // Plain functions (not coroutines) that decode frames and submit requests: see reader().
  void submit_awaited(WriteRequest&& request);
  bool start_hello(FrameType type, std::string_view payload);  // true: wait, then finish_hello
  void finish_hello();
  bool handle_control(FrameType type, std::string_view payload);  // true: wait, finish_goodbye
  void finish_goodbye();
  bool lease_frame(std::size_t n);  // true: frame_lease_ holds `n` bytes
  // A wake-up for the budgets and the pool: posts wake_reader() if the session still exists.
  std::function<void()> reader_waker();
  bool submit_index(std::string& payload);  // false: the pool is full, the reader is woken
  void finish_batch();
  void on_batch_done(std::uint64_t id, WriteOutcome&& out);

  // Claims instance_id for this connection (WriterRegistry); false: refused (ERROR queued).
  bool claim_instance(const Hello& h);

  // Key authentication (session_key_auth.cc, enrollment.h): a HELLO with auth "key" gets a
  // CHALLENGE (start_key_auth keeps the HELLO in key_hello_); key_auth() reads the PROOF, has
  // the Enroller decide it, then claims the instance and submits the HELLO like
  // start_hello(). False: refused (ERROR queued).
  bool start_key_auth(Hello&& h);
  boost::asio::awaitable<bool> key_auth();
  bool submit_proof(FrameType type, std::string_view payload);
  bool finish_key_auth();
  // A HELLO without auth "key" and no token secret: false (ERROR queued) when enrollment is
  // configured, so that key mode never lets an unauthenticated peer in.
  bool token_mode_allowed(const Hello& h);
  // Queue an ERROR and end the session once in-flight batches are acknowledged. `reason` is
  // the rejects_total label (default: the code's name).
  void fail(Errc code, std::string message, std::string_view reason = {});
  void queue_frame(FrameType type, std::string payload);
  void wake_sender();
  void wake_reader();
  void set_read_deadline(Clock::time_point t);
  void set_write_deadline(Clock::time_point t);
  void close_socket();

  IngestStream socket_;  // plain TCP or TLS (ingest_stream.h)
  Strand strand_;
  std::shared_ptr<SessionContext> ctx_;
  boost::asio::steady_timer send_wake_;
  boost::asio::steady_timer read_wake_;
  boost::asio::steady_timer watchdog_timer_;
  Clock::time_point read_deadline_ = Clock::time_point::max();
  Clock::time_point write_deadline_ = Clock::time_point::max();

  std::string peer_;
  std::string instance_;          // set by HELLO
  std::string pending_instance_;  // HELLO submitted, not yet answered
  std::string claimed_instance_;  // this connection is its writer (WriterRegistry)
  const std::uint64_t id_;        // unique per connection
  // Frames received (the WriterRegistry reads it to tell a live writer from a stale one).
  std::shared_ptr<std::atomic<std::uint64_t>> frames_seen_ =
      std::make_shared<std::atomic<std::uint64_t>>(0);
  std::optional<WriteOutcome> outcome_;  // answer to submit_awaited()
  struct Indexed {
    std::uint64_t id = 0;
    Result<void> verdict;
    IndexedBatch batch;
  };
  std::optional<Indexed> indexed_;  // answer to submit_index()
  std::optional<Hello> key_hello_;  // auth "key": waiting for its PROOF
  std::string nonce_;               // the CHALLENGE sent on this connection
  std::optional<KeyAuthVerdict> key_verdict_;  // the Enroller's answer to the PROOF
  bool welcomed_ = false;
  bool reading_done_ = false;  // the reader has exited
  bool closing_ = false;       // finish in-flight work, flush, close
  bool closed_ = false;
  // Leases are declared after the budget they come from (they go back before it goes).
  MemoryBudget budget_;  // this connection's frame bytes; its parent is ctx_->budget
  std::optional<MemoryBudget::Lease> frame_lease_;             // the frame being read
  std::map<std::uint64_t, MemoryBudget::Lease> batch_leases_;  // being indexed or written
  std::uint64_t next_batch_id_ = 0;
  std::size_t inflight_batches_ = 0;                // being indexed or written
  std::deque<std::string> out_frames_;              // whole frames to send, in order
  std::string final_frame_;                         // ERROR or GOODBYE sent last, then close
  std::map<std::uint32_t, std::uint64_t> acked_;    // stream → highest seq acknowledged
  std::map<std::uint32_t, std::uint64_t> ack_due_;  // not yet sent
  // Touched by the writer thread only (BatchRequest::connection_failed).
  std::shared_ptr<bool> connection_failed_ = std::make_shared<bool>(false);
};

}  // namespace blackbox::collector
