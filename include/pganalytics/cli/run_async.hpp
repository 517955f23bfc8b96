// Runs one coroutine to completion on a private io_context, for command-line tools that reuse
// the server's asynchronous repositories.
#pragma once
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace pga::cli {

template <typename T>
T run_async(std::function<boost::asio::awaitable<T>(boost::asio::any_io_executor)> task) {
  boost::asio::io_context io;
  auto future = boost::asio::co_spawn(io, task(io.get_executor()), boost::asio::use_future);
  io.run();
  return future.get();
}

}  // namespace pga::cli
