// gzip for request and response bodies. Inflation is incremental and stops as soon as the output
// would pass its limit, so a decompression bomb costs at most the limit in memory (CONTRACT §5).
#pragma once
#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace pga::net {

enum class GzipError {
  TooLarge,  // output would pass max_output_bytes or max_ratio × input: 413 payload_too_large
  Corrupt,   // not gzip, damaged, truncated, or followed by garbage: 400 bad_gzip
};

using GzipResult = boost::system::result<std::string, GzipError>;
using GzipSize = boost::system::result<std::size_t, GzipError>;

// What GzipResult::value() throws on failure: the ApiError named above, found by ADL.
[[noreturn]] void throw_exception_from_error(const GzipError& error, const boost::source_location& location);

// Inflates one or more concatenated gzip members. The output limit is
// min(max_output_bytes, max_ratio × compressed.size()). Input that is corrupt or would pass the
// limit is refused before any output buffer is allocated; otherwise exactly the output's size is.
GzipResult inflate_gzip(std::string_view compressed, std::size_t max_output_bytes, double max_ratio);

// inflate_gzip in its two passes, for callers that reserve memory in between: the first only
// measures (constant memory), the second fills exactly `size` bytes, as measured before.
GzipSize measure_gzip(std::string_view compressed, std::size_t max_output_bytes, double max_ratio);
std::string inflate_measured_gzip(std::string_view compressed, std::size_t size);

// One gzip member; level as zlib's (0 none … 9 best, 6 default).
std::string deflate_gzip(std::string_view data, int level = 6);

}  // namespace pga::net
