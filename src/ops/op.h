// OpKind and the params variant, generated from the op list.
#pragma once

#include <variant>

#include "ops/op_list.h"
#include "ops/params.h"

namespace krt {

enum class OpKind {
#define KRT_OP_ENUM(name, Params, doc) name,
  KRT_OP_LIST(KRT_OP_ENUM)
#undef KRT_OP_ENUM
};

inline constexpr int kOpCount = 0
#define KRT_OP_COUNT(name, Params, doc) +1
    KRT_OP_LIST(KRT_OP_COUNT)
#undef KRT_OP_COUNT
    ;

#define KRT_OP_PARAMS(name, Params, doc) , Params
using OpParams = std::variant<std::monostate KRT_OP_LIST(KRT_OP_PARAMS)>;
#undef KRT_OP_PARAMS

const char* op_name(OpKind kind);
const char* op_description(OpKind kind);

}  // namespace krt
