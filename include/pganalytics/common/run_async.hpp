// Running a coroutine to completion from synchronous code: on a private io_context (command-line
// tools), or on a shared one that may also carry long-lived work (the demo, server start-up).
#pragma once
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace pga {

// Runs `io` only until `task` completes, leaving other work (listeners, timers) in place.
template <typename T>
T run_on(boost::asio::io_context& io, boost::asio::awaitable<T> task) {
  auto future = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  io.restart();
  while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) io.run_one();
  return future.get();
}

// For what a long-running event loop works on (the server, the agent), called once the loop has
// stopped. Coroutines still suspended then are destroyed with the io_context, and their locals (a
// session's turn, a pool lease) reach into these objects, which must therefore outlive it. Nor
// may they be destroyed after it, since their own timers and sockets would reach into its
// destroyed services: the process is exiting, so they are left to the operating system.
template <typename T>
void keep_until_exit(std::unique_ptr<T> owner) {
  static_cast<void>(owner.release());
}

template <typename T>
T run_async(std::function<boost::asio::awaitable<T>(boost::asio::any_io_executor)> task) {
  boost::asio::io_context io;
  return run_on(io, task(io.get_executor()));
}

}  // namespace pga
