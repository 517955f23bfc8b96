// UTF-8 by the byte: where a valid sequence ends, so text from the network can be checked,
// cut or escaped without a character set library.
#pragma once
#include <cstddef>
#include <string_view>

namespace pga {

// The length of the valid UTF-8 sequence starting at `at` (1 for ASCII), or 0 for a byte that
// does not start one: overlong forms, surrogates and code points past U+10FFFF are invalid.
std::size_t utf8_sequence_length(std::string_view text, std::size_t at);

}  // namespace pga
