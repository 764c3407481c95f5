#include "cli_image.h"

#include <jpeglib.h>
#include <png.h>
#include <stdio.h>  // jpeglib.h needs FILE declared first

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csetjmp>
#include <cstring>
#include <fstream>
#include <memory>

#include "kerasrt/error.h"

namespace krt::cli {

namespace {

// Decoded images are bounded so a crafted header cannot ask for gigabytes.
constexpr int64_t kMaxPixels = int64_t{1} << 28;

[[noreturn]] void image_error(const std::string& path, const std::string& what) {
  throw Error(ErrorCode::invalid_file, path + ": " + what);
}

void check_size(const std::string& path, int64_t width, int64_t height) {
  if (width <= 0 || height <= 0 || width * height > kMaxPixels)
    image_error(path, "image size " + std::to_string(width) + "x" + std::to_string(height) +
                          " is empty or too large");
}

RgbImage read_png(const std::string& path) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, path.c_str()))
    image_error(path, std::string("not a readable PNG: ") + image.message);
  // Free libpng's state on every path out of here.
  std::unique_ptr<png_image, void (*)(png_image*)> guard(&image,
                                                         [](png_image* p) { png_image_free(p); });
  check_size(path, image.width, image.height);
  image.format =
      PNG_FORMAT_RGB;  // palette, gray, 16-bit and alpha (over black) all become 8-bit RGB
  RgbImage out{image.width, image.height, std::vector<uint8_t>(PNG_IMAGE_SIZE(image))};
  if (!png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr))
    image_error(path, std::string("corrupt PNG: ") + image.message);
  return out;
}

struct JpegErrorManager {
  jpeg_error_mgr base;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

// The libjpeg calls, alone in a function with only pointer locals, so that longjmp (libjpeg's
// way out of an error) can clobber nothing. Returns "" or the error message.
std::string decode_jpeg(FILE* file, jpeg_decompress_struct* cinfo, JpegErrorManager* err,
                        RgbImage* out) {
  if (setjmp(err->jump)) return err->message;
  jpeg_stdio_src(cinfo, file);
  jpeg_read_header(cinfo, TRUE);
  cinfo->out_color_space = JCS_RGB;  // gray and YCbCr become RGB; CMYK is refused by libjpeg
  if (cinfo->image_width == 0 ||
      static_cast<int64_t>(cinfo->image_width) * cinfo->image_height > kMaxPixels)
    return "image size " + std::to_string(cinfo->image_width) + "x" +
           std::to_string(cinfo->image_height) + " is empty or too large";
  jpeg_start_decompress(cinfo);
  out->width = cinfo->output_width;
  out->height = cinfo->output_height;
  out->pixels.resize(static_cast<size_t>(out->width * out->height * 3));
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW row =
        out->pixels.data() + static_cast<size_t>(cinfo->output_scanline) * out->width * 3;
    jpeg_read_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_decompress(cinfo);
  return "";
}

RgbImage read_jpeg(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw Error(ErrorCode::io_error, path + ": cannot open: " + std::strerror(errno));
  jpeg_decompress_struct cinfo;
  JpegErrorManager err;
  cinfo.err = jpeg_std_error(&err.base);
  // libjpeg reports errors through a callback that must not return: jump back instead.
  err.base.error_exit = [](j_common_ptr c) {
    auto* e = reinterpret_cast<JpegErrorManager*>(c->err);
    (*c->err->format_message)(c, e->message);
    std::longjmp(e->jump, 1);
  };
  err.base.output_message = [](j_common_ptr) {};  // warnings stay quiet: the one-line contract
  jpeg_create_decompress(&cinfo);
  RgbImage out;
  std::string failure = decode_jpeg(file.get(), &cinfo, &err, &out);
  jpeg_destroy_decompress(&cinfo);
  if (!failure.empty()) image_error(path, "corrupt or unsupported JPEG: " + failure);
  return out;
}

// Bilinear sampling with half-pixel centres and edge clamping (tf.image.resize, Keras's
// Resizing default): sample x of an output of width W from an input of width w is at
// (x + 0.5) * w / W - 0.5.
float sample(const RgbImage& img, double y, double x, int c) {
  auto clamp = [](int64_t v, int64_t n) { return v < 0 ? 0 : v >= n ? n - 1 : v; };
  y = std::max(0.0, y);
  x = std::max(0.0, x);
  int64_t y0 = clamp(static_cast<int64_t>(y), img.height),
          x0 = clamp(static_cast<int64_t>(x), img.width);
  int64_t y1 = clamp(y0 + 1, img.height), x1 = clamp(x0 + 1, img.width);
  double fy = std::min(1.0, y - y0), fx = std::min(1.0, x - x0);
  auto at = [&](int64_t yy, int64_t xx) {
    return static_cast<double>(img.pixels[(yy * img.width + xx) * 3 + c]);
  };
  double top = at(y0, x0) * (1 - fx) + at(y0, x1) * fx;
  double bottom = at(y1, x0) * (1 - fx) + at(y1, x1) * fx;
  return static_cast<float>(top * (1 - fy) + bottom * fy);
}

}  // namespace

RgbImage read_image(const std::string& path) {
  unsigned char magic[8] = {};
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::io_error, path + ": cannot open the image");
  in.read(reinterpret_cast<char*>(magic), sizeof magic);
  if (in.gcount() == 8 && png_sig_cmp(magic, 0, 8) == 0) return read_png(path);
  if (in.gcount() >= 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF)
    return read_jpeg(path);
  image_error(path, "not a PNG or JPEG image");
}

Tensor images_to_tensor(const std::vector<std::string>& paths, const ImageOptions& options) {
  if (options.channels != 1 && options.channels != 3)
    throw Error(ErrorCode::invalid_argument,
                "--channels must be 1 or 3, got " + std::to_string(options.channels));
  Tensor out;
  for (size_t b = 0; b < paths.size(); ++b) {
    RgbImage img = read_image(paths[b]);
    int64_t h = options.height ? options.height : img.height,
            w = options.width ? options.width : img.width;
    if (b == 0) {
      out = Tensor(DType::f32, {static_cast<int64_t>(paths.size()), h, w, options.channels});
    } else if (out.dim(1) != h || out.dim(2) != w) {
      throw Error(ErrorCode::invalid_argument,
                  paths[b] + " is " + std::to_string(img.width) + "x" + std::to_string(img.height) +
                      ", the first image is " + std::to_string(out.dim(2)) + "x" +
                      std::to_string(out.dim(1)) + ": give --resize WxH");
    }
    float* dst = out.data_as<float>() + b * h * w * options.channels;
    double sy = static_cast<double>(img.height) / h, sx = static_cast<double>(img.width) / w;
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        float rgb[3];
        for (int c = 0; c < 3; ++c)
          rgb[c] = sample(img, (y + 0.5) * sy - 0.5, (x + 0.5) * sx - 0.5, c);
        float* px = dst + (y * w + x) * options.channels;
        if (options.channels == 3) {
          for (int c = 0; c < 3; ++c)
            px[c] = static_cast<float>(rgb[c] * options.scale + options.offset);
        } else {
          double luma = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
          px[0] = static_cast<float>(luma * options.scale + options.offset);
        }
      }
  }
  return out;
}

}  // namespace krt::cli
