// gzip limits as CONTRACT §5 states them: round trips, corrupt input refused, and a 200 MiB bomb
// refused without the process's peak memory growing anywhere near the bomb's size.
#include "pganalytics/net/gzip.hpp"

#include "pganalytics/net/http.hpp"
#include "net_test_support.hpp"

#include <doctest/doctest.h>
#include <zlib.h>

#include <fstream>
#include <string>

namespace pga::net {
namespace {

constexpr std::size_t MiB = 1024 * 1024;

// Compressed in 1 MiB steps so that building the bomb does not itself need 200 MiB.
std::string gzip_of_zeros(std::size_t size) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);  // fast
  std::string zeros(MiB, '\0');
  std::string out;
  char chunk[64 * 1024];
  for (std::size_t left = size; left > 0 || zs.avail_in > 0;) {
    if (zs.avail_in == 0) {
      std::size_t piece = std::min(left, zeros.size());
      zs.next_in = reinterpret_cast<Bytef*>(zeros.data());
      zs.avail_in = static_cast<uInt>(piece);
      left -= piece;
    }
    int flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
    do {
      zs.next_out = reinterpret_cast<Bytef*>(chunk);
      zs.avail_out = sizeof chunk;
      deflate(&zs, flush);
      out.append(chunk, sizeof chunk - zs.avail_out);
    } while (zs.avail_out == 0);
  }
  deflateEnd(&zs);
  return out;
}

long peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

int api_status_of(GzipResult result) {
  try {
    result.value();
    return 200;
  } catch (const ApiError& e) {
    return e.status();
  }
}

TEST_CASE("net gzip: round trip, empty input and concatenated members") {
  auto text = testing::sample_batch(3 * MiB);
  auto compressed = deflate_gzip(text);
  CHECK(compressed.size() < text.size() / 2);
  CHECK(inflate_gzip(compressed, 64 * MiB, 100).value() == text);
  CHECK(inflate_gzip(deflate_gzip(""), 64 * MiB, 100).value().empty());
  auto two = deflate_gzip("first,") + deflate_gzip("second", 1);
  CHECK(inflate_gzip(two, 64 * MiB, 100).value() == "first,second");
}

TEST_CASE("net gzip: corrupt, truncated or trailing garbage is Corrupt (400 bad_gzip)") {
  auto good = deflate_gzip(testing::sample_batch(100000));
  auto flipped = good;
  flipped[flipped.size() / 2] ^= 0x55;
  for (const std::string& bad : {std::string("plain text, not gzip"), std::string(), good.substr(0, good.size() - 5),
                                 good.substr(0, 10), flipped, good + "junk", good + std::string(4, '\0')}) {
    auto result = inflate_gzip(bad, 64 * MiB, 100);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error() == GzipError::Corrupt);
    CHECK(api_status_of(result) == 400);
  }
}

TEST_CASE("net gzip: output over the size or the ratio limit is TooLarge (413)") {
  auto text = testing::sample_batch(MiB);
  auto compressed = deflate_gzip(text);
  CHECK(inflate_gzip(compressed, text.size(), 1000).value() == text);  // exactly at the limit
  auto over_size = inflate_gzip(compressed, text.size() - 1, 1000);
  CHECK(over_size.error() == GzipError::TooLarge);
  CHECK(api_status_of(over_size) == 413);

  auto zeros = gzip_of_zeros(MiB);  // about 200:1
  CHECK(inflate_gzip(zeros, 64 * MiB, 100).error() == GzipError::TooLarge);
  CHECK(inflate_gzip(zeros, 64 * MiB, 1000).value().size() == MiB);
}

TEST_CASE("net gzip: a 200 MiB bomb is refused with flat memory") {
  auto bomb = gzip_of_zeros(200 * MiB);
  REQUIRE(bomb.size() < MiB);
  std::ofstream("/proc/self/clear_refs") << "5";  // resets VmHWM to the current RSS
  long before = peak_rss_kib();
  // The server's limits: the 64 MiB cap stops it.
  CHECK(inflate_gzip(bomb, 64 * MiB, 100).error() == GzipError::TooLarge);
  // Under a generous cap, the ratio stops it (the bomb is more than 100:1).
  CHECK(inflate_gzip(bomb, 1024 * MiB, 100).error() == GzipError::TooLarge);
  long growth_kib = peak_rss_kib() - before;
  MESSAGE("peak RSS growth while inflating the bomb: ", growth_kib / 1024, " MiB");
  CHECK(growth_kib < 100 * 1024);
}

}  // namespace
}  // namespace pga::net
