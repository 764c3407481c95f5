// Images in: PNG and JPEG files decoded (libpng, libjpeg) into an NHWC float tensor, the way a
// Keras preprocessing pipeline would make it: resize, then pixel * scale + offset.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kerasrt/tensor.h"

namespace krt::cli {

struct ImageOptions {
  int64_t width = 0, height = 0;  // 0: keep the image's size
  int channels = 3;               // 1 (gray, ITU-R 601 luma) or 3 (RGB)
  double scale = 1.0, offset = 0.0;
};

// An 8-bit RGB image, rows top to bottom.
struct RgbImage {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> pixels;  // height * width * 3
};

// Decodes a PNG or JPEG (recognized by its signature, not its name). Throws krt::Error naming
// the file on anything malformed or unsupported.
RgbImage read_image(const std::string& path);

// One batch row per path: shape (paths.size(), height, width, channels), float32.
Tensor images_to_tensor(const std::vector<std::string>& paths, const ImageOptions& options);

}  // namespace krt::cli
