// IEEE half (f16) and bfloat16 conversions on bit patterns, rounding to nearest even, as the
// GPU's conversion instructions do; NaN stays NaN and overflow becomes infinity.
#pragma once

#include <cstdint>
#include <cstring>

namespace krt {

inline uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

inline float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline uint16_t float_to_bfloat16_bits(float f) {
  uint32_t u = float_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

inline float bfloat16_bits_to_float(uint16_t h) {
  return bits_float(static_cast<uint32_t>(h) << 16);
}

inline uint16_t float_to_half_bits(float f) {
  const uint32_t u = float_bits(f);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t abs = u & 0x7fffffffu;
  if (abs > 0x7f800000u) return sign | 0x7e00u;   // NaN
  if (abs >= 0x477ff000u) return sign | 0x7c00u;  // rounds to infinity (>= 65520)
  if (abs < 0x38800000u) {                        // subnormal half (or zero)
    // Add 0.5 as the implicit bit's magnitude so the float adder does the rounding.
    const float rounded = bits_float(abs) + 0.5f;
    return sign | static_cast<uint16_t>(float_bits(rounded) - float_bits(0.5f));
  }
  const uint32_t odd = (abs >> 13) & 1u;
  return sign | static_cast<uint16_t>((abs + 0xc8000fffu + odd) >> 13);  // rebias 127 -> 15, round
}

inline float half_bits_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  if (exp == 0x1f) return bits_float(sign | 0x7f800000u | (mant << 13));  // inf / NaN
  if (exp == 0) {                                                         // zero / subnormal
    const float v = static_cast<float>(mant) * (1.0f / 16777216.0f);      // mant * 2^-24
    return sign ? -v : v;
  }
  return bits_float(sign | ((exp + 112) << 23) | (mant << 13));
}

}  // namespace krt
