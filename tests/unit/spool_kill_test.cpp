// The spool against real kill -9: a child appends (and acknowledges) in a loop and is killed at
// random moments; every batch whose append returned must come back once, in order, or be acknowledged.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <sstream>
#include <thread>

#include "pganalytics/agent/spool.hpp"

using namespace pga::agent;
namespace fs = std::filesystem;

namespace {

// Small segments, so kills also land in rotations and deletions.
const SpoolOptions kOptions{512ull << 20, 4096};

// Every fourth batch is a few MiB: its write takes long enough for a kill to cut it.
std::string payload_for(std::uint64_t seq) {
  return fmt::format(R"({{"seq":{},"pad":"{}"}})", seq, std::string(seq % 4 ? seq % 500 : (seq % 7 + 1) << 20, 'x'));
}

// The child: reports each seq once append() returned, acknowledges the oldest every other batch.
[[noreturn]] void append_until_killed(const fs::path& dir, int report) {
  try {
    auto spool = Spool::open(dir, kOptions);
    for (std::uint64_t n = 0;; ++n) {
      const auto seq = spool.append([](std::uint64_t seq, const std::vector<SeqRange>&) { return payload_for(seq); });
      const auto line = fmt::format("returned {}\n", seq);
      if (::write(report, line.data(), line.size()) != static_cast<ssize_t>(line.size())) ::_exit(2);
      if (n % 2 == 1) spool.acknowledge(spool.oldest()->seq);
    }
  } catch (...) {
    ::_exit(3);
  }
}

// Reads the pipe until at least one full line arrived (wait_for_line) or until end of file.
void read_pipe(int fd, std::string& text, bool wait_for_line) {
  char buffer[4096];
  while (!wait_for_line || text.find('\n') == std::string::npos) {
    const auto n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) return;
    text.append(buffer, static_cast<std::size_t>(n));
  }
}

std::vector<std::uint64_t> returned_seqs(const std::string& text) {
  std::vector<std::uint64_t> seqs;
  std::istringstream in(text);
  std::string word;
  std::uint64_t seq = 0;
  while (in >> word >> seq) seqs.push_back(seq);
  return seqs;
}

// Runs one child for a random while after its first append, then kills it; returns what it reported.
std::vector<std::uint64_t> run_and_kill(const fs::path& dir, std::mt19937& random) {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    append_until_killed(dir, pipe_fds[1]);
  }
  ::close(pipe_fds[1]);
  std::string text;
  read_pipe(pipe_fds[0], text, true);
  std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution(0, 150'000)(random)));
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK(WIFSIGNALED(status));
  read_pipe(pipe_fds[0], text, false);
  ::close(pipe_fds[0]);
  return returned_seqs(text);
}

}  // namespace

TEST_CASE("spool: kill -9 at random moments loses no returned batch and repeats none") {
  std::string pattern = (fs::temp_directory_path() / "pga-spool-kill-XXXXXX").string();
  REQUIRE(::mkdtemp(pattern.data()));
  const fs::path dir = fs::path(pattern) / "spool";
  std::mt19937 random(20261124);
  std::uint64_t highest = 0;  // above every seq returned or delivered in earlier rounds

  for (int round = 0; round < 8; ++round) {
    CAPTURE(round);
    const auto returned = run_and_kill(dir, random);
    REQUIRE_FALSE(returned.empty());
    CHECK(returned.front() > highest);  // no seq handed out twice, across restarts

    auto spool = Spool::open(dir, kOptions);
    std::vector<std::uint64_t> delivered;
    while (auto batch = spool.oldest()) {
      CHECK(batch->payload == payload_for(batch->seq));
      delivered.push_back(batch->seq);
      spool.acknowledge(batch->seq);
    }
    CHECK(spool.stats().damaged_records == 0);
    for (std::size_t i = 1; i < delivered.size(); ++i) CHECK(delivered[i] == delivered[i - 1] + 1);
    // A returned batch is delivered, or was acknowledged (which only ever takes the oldest).
    for (auto seq : returned) {
      const bool present = std::find(delivered.begin(), delivered.end(), seq) != delivered.end();
      const bool acknowledged = delivered.empty() || seq < delivered.front();
      CHECK_MESSAGE((present || acknowledged), "seq ", seq);
    }
    // At most the one append cut between its fsync and its report went further.
    if (!delivered.empty()) CHECK(delivered.back() <= returned.back() + 1);
    highest = std::max(returned.back(), delivered.empty() ? 0 : delivered.back());
  }
  fs::remove_all(pattern);
}
