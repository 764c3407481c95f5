#include "kerasrt/kerasrt.h"

#ifndef KERASRT_VERSION
#define KERASRT_VERSION "unknown"
#endif

namespace krt {

const char* version() { return KERASRT_VERSION; }

}  // namespace krt
