// OpKind and the params variant, generated from the op list.
#pragma once

#include <type_traits>
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

namespace detail {
// Builds std::variant<...> with each type once: several ops share a params struct (ConvParams),
// and std::get<T> / assignment from T need T to occur exactly once in the variant.
template <class V, class... Ts>
struct unique_variant {
  using type = V;
};
template <class... Vs, class T, class... Ts>
struct unique_variant<std::variant<Vs...>, T, Ts...>
    : std::conditional_t<(std::is_same_v<T, Vs> || ...), unique_variant<std::variant<Vs...>, Ts...>,
                         unique_variant<std::variant<Vs..., T>, Ts...>> {};
}  // namespace detail

#define KRT_OP_PARAMS(name, Params, doc) , Params
using OpParams = typename detail::unique_variant<std::variant<>,
                                                 std::monostate KRT_OP_LIST(KRT_OP_PARAMS)>::type;
#undef KRT_OP_PARAMS

const char* op_name(OpKind kind);
const char* op_description(OpKind kind);

}  // namespace krt
