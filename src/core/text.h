// Text from model files (layer names, class names, keys) ends up in error messages: this keeps
// those messages printable whatever the file holds.
#pragma once

#include <string>
#include <string_view>

namespace krt {

// `text` with every byte that is not part of printable UTF-8 written as \xNN: control
// characters (newlines and tabs included, so one error stays one line), DEL, C1 controls,
// and bytes of invalid, overlong or truncated UTF-8 sequences. A backslash stays as it is.
std::string printable_text(std::string_view text);

}  // namespace krt
