// zlib-based gzip: inflation in fixed chunks with the limit checked before every piece, so a bomb
// is refused after at most the limit's worth of work and without the limit's worth of memory.
#include "pganalytics/net/gzip.hpp"

#include "pganalytics/net/http.hpp"

#include <zlib.h>

#include <array>
#include <climits>
#include <new>
#include <optional>
#include <stdexcept>

namespace pga::net {
namespace {

constexpr std::size_t kChunk = 64 * 1024;
constexpr int kGzipWindowBits = 16 + MAX_WBITS;

std::size_t output_limit(std::size_t compressed_size, std::size_t max_output_bytes, double max_ratio) {
  double by_ratio = max_ratio * static_cast<double>(compressed_size);
  if (by_ratio >= static_cast<double>(max_output_bytes)) return max_output_bytes;
  return static_cast<std::size_t>(by_ratio);
}

struct Inflater {
  z_stream stream{};
  Inflater() {
    if (inflateInit2(&stream, kGzipWindowBits) != Z_OK) throw std::bad_alloc();
  }
  ~Inflater() { inflateEnd(&stream); }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
};

// Runs all of `compressed` through zlib, handing each produced piece to `sink`, and stops as soon
// as the total would pass `limit`.
template <class Sink>
std::optional<GzipError> inflate_pieces(std::string_view compressed, std::size_t limit, Sink&& sink) {
  Inflater inflater;
  z_stream& zs = inflater.stream;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  zs.avail_in = static_cast<uInt>(compressed.size());
  std::array<char, kChunk> chunk;
  for (std::size_t total = 0;;) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk.data());
    zs.avail_out = static_cast<uInt>(chunk.size());
    int rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_MEM_ERROR) throw std::bad_alloc();
    if (rc != Z_OK && rc != Z_STREAM_END) return GzipError::Corrupt;  // also truncation (Z_BUF_ERROR)
    std::size_t produced = chunk.size() - zs.avail_out;
    if (produced > limit - total) return GzipError::TooLarge;
    total += produced;
    sink(std::string_view(chunk.data(), produced));
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) return std::nullopt;
      // Another member may follow (RFC 1952 allows several); garbage fails its header check.
      if (inflateReset(&zs) != Z_OK) return GzipError::Corrupt;
    }
  }
}

}  // namespace

void throw_exception_from_error(const GzipError& error, const boost::source_location&) {
  if (error == GzipError::TooLarge)
    throw ApiError(413, "payload_too_large", "decompressed body exceeds the size limit");
  throw ApiError(400, "bad_gzip", "body is not valid gzip");
}

// Two passes: the first only measures (and refuses bombs and corrupt input without allocating
// anything), the second fills a buffer of exactly the right size. Inflating costs far less than
// the network transfer, and peak memory is the output itself rather than a doubling buffer.
GzipSize measure_gzip(std::string_view compressed, std::size_t max_output_bytes, double max_ratio) {
  if (compressed.size() > UINT_MAX) return GzipError::TooLarge;
  const std::size_t limit = output_limit(compressed.size(), max_output_bytes, max_ratio);
  std::size_t size = 0;
  if (auto error = inflate_pieces(compressed, limit, [&](std::string_view piece) { size += piece.size(); }))
    return *error;
  return size;
}

std::string inflate_measured_gzip(std::string_view compressed, std::size_t size) {
  std::string out;
  out.reserve(size);
  if (inflate_pieces(compressed, size, [&](std::string_view piece) { out.append(piece); }))
    throw std::logic_error("gzip input changed between measuring and inflating it");
  return out;
}

GzipResult inflate_gzip(std::string_view compressed, std::size_t max_output_bytes, double max_ratio) {
  auto size = measure_gzip(compressed, max_output_bytes, max_ratio);
  if (!size) return size.error();
  return inflate_measured_gzip(compressed, *size);
}

std::string deflate_gzip(std::string_view data, int level) {
  // One deflate() call keeps this simple; bodies here are a few MiB, far below zlib's uInt.
  if (data.size() > (std::size_t{1} << 30)) throw std::length_error("gzip input over 1 GiB");
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::invalid_argument("bad gzip compression level");
  std::string out(deflateBound(&zs, data.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("gzip compression failed");
  out.resize(zs.total_out);
  return out;
}

}  // namespace pga::net
