// LastResort: the completion handler given to every co_spawn in the tree (STYLE.md §4). Nothing
// should throw out of a coroutine (errors are values, awaited with as_tuple), so an exception
// arriving here is a bug: it is logged once as "<component>: coroutine ended by an exception:
// <what>", counted, and the process carries on. Free of Asio: a plain callable taking the
// std::exception_ptr that co_spawn hands its completion handler (awaitable<void> coroutines).
#pragma once

#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <utility>

namespace blackbox {

class LastResort {
 public:
  // `component` names the coroutine in the log ("server: reader") and must outlive the handler
  // (a string literal does). `escaped`, if not null, is bumped once per exception and must
  // outlive the handler. `then`, if set, runs after an exception was logged (e.g. to mark a
  // loop as finished); it runs on the coroutine's executor and must not throw.
  explicit LastResort(const char* component, std::atomic<std::uint64_t>* escaped = nullptr,
                      std::function<void()> then = {})
      : component_(component), escaped_(escaped), then_(std::move(then)) {}

  // Does nothing for a null `e` (the coroutine returned normally).
  void operator()(std::exception_ptr e) const {
    if (!e) return;
    if (escaped_ != nullptr) escaped_->fetch_add(1, std::memory_order_relaxed);
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      spdlog::error("{}: coroutine ended by an exception: {}", component_, x.what());
    } catch (...) {
      spdlog::error("{}: coroutine ended by an unknown exception", component_);
    }
    if (then_) then_();
  }

 private:
  const char* component_;
  std::atomic<std::uint64_t>* escaped_;
  std::function<void()> then_;
};

}  // namespace blackbox
