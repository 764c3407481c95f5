// Images in: `kerasrt run MODEL --image a.png|b.jpg` with --resize/--scale/--offset/--channels
// and --print. The tests write their own PNG and JPEG files with libpng and libjpeg and check
// the CLI's outputs against the library run on the tensor the images should become.
#include <gtest/gtest.h>
#include <jpeglib.h>
#include <png.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "cli_image.h"
#include "golden/fixture_case.h"
#include "kerasrt/kerasrt.h"
#include "test_paths.h"
#include "test_process.h"

namespace fs = std::filesystem;

namespace krt::test {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

struct Pixels {
  int width, height;
  std::vector<uint8_t> rgb;
};

// A deterministic image whose 2x2 blocks are uniform, so a 2x bilinear downscale (half-pixel
// centres) reproduces each block's colour exactly.
Pixels block_image(int width, int height) {
  Pixels p{width, height, std::vector<uint8_t>(static_cast<size_t>(width * height * 3))};
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c)
        p.rgb[(y * width + x) * 3 + c] =
            static_cast<uint8_t>((37 * (y / 2) + 91 * (x / 2) + 60 * c) % 256);
  return p;
}

void write_png(const std::string& path, const Pixels& p) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = p.width;
  image.height = p.height;
  image.format = PNG_FORMAT_RGB;
  ASSERT_TRUE(png_image_write_to_file(&image, path.c_str(), 0, p.rgb.data(), 0, nullptr))
      << image.message;
}

void write_jpeg(const std::string& path, const Pixels& p) {
  FILE* f = fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  jpeg_compress_struct cinfo;
  jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_compress(&cinfo);
  jpeg_stdio_dest(&cinfo, f);
  cinfo.image_width = p.width;
  cinfo.image_height = p.height;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 95, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(p.rgb.data()) + cinfo.next_scanline * p.width * 3;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  fclose(f);
}

// What libjpeg decodes the file to (JPEG is lossy: the expected tensor starts from these).
Pixels read_jpeg_back(const std::string& path) {
  FILE* f = fopen(path.c_str(), "rb");
  jpeg_decompress_struct cinfo;
  jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_decompress(&cinfo);
  jpeg_stdio_src(&cinfo, f);
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  Pixels p{static_cast<int>(cinfo.output_width), static_cast<int>(cinfo.output_height), {}};
  p.rgb.resize(static_cast<size_t>(p.width * p.height * 3));
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = p.rgb.data() + cinfo.output_scanline * p.width * 3;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  fclose(f);
  return p;
}

// Pixels (taking every `step`-th one: the exact 2x downscale of block images) * scale + offset.
void append_tensor(std::vector<float>& out, const Pixels& p, int step, float scale, float offset) {
  for (int y = 0; y < p.height; y += step)
    for (int x = 0; x < p.width; x += step)
      for (int c = 0; c < 3; ++c) out.push_back(p.rgb[(y * p.width + x) * 3 + c] * scale + offset);
}

Tensor tensor_of(std::vector<float> values, Shape shape) {
  Tensor t(DType::f32, shape);
  std::copy(values.begin(), values.end(), t.data_as<float>());
  return t;
}

class CliImage : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("krt_images_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

std::string seed_model() { return data_dir() + "/fixtures/seed/seed_small_functional/model.keras"; }

TEST_F(CliImage, PngAndJpegBecomeTheInputBatch) {
  Pixels png = block_image(16, 16), jpg = block_image(8, 8);
  write_png(path("a.png"), png);
  write_jpeg(path("b.jpg"), jpg);
  const float scale = 1.f / 255, offset = -0.5f;
  ProcessResult r =
      run_process(cli_path(), {"run", seed_model(), "--image", path("a.png"), "--image",
                               path("b.jpg"), "--resize", "8x8", "--scale", std::to_string(scale),
                               "--offset", "-0.5", "-o", path("out")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "output 0 'deconv': shape (2, 8, 8, 32)")) << r.out;
  // Row 0: the PNG downscaled 2x; row 1: the JPEG as libjpeg decodes it, at its own size.
  std::vector<float> x;
  append_tensor(x, png, 2, std::stof(std::to_string(scale)), offset);
  append_tensor(x, read_jpeg_back(path("b.jpg")), 1, std::stof(std::to_string(scale)), offset);
  std::vector<Tensor> want = load(seed_model()).compile().run({tensor_of(x, {2, 8, 8, 3})});
  EXPECT_EQ(compare_tensors(Tensor::from_npy(path("out/output_0.npy")), want[0], {1e-5, 1e-5}), "");
}

TEST_F(CliImage, PrintShowsValuesAndTopClassesOfASoftmaxOutput) {
  std::string model =
      data_dir() +
      "/fixtures/models/cnn_classifier_sequential/model.keras";  // 16x16x3 -> softmax(5)
  Pixels png = block_image(32, 32);
  write_png(path("c.png"), png);
  ProcessResult r =
      run_process(cli_path(), {"run", model, "--image", path("c.png"), "--resize", "16x16",
                               "--scale", "0.00392156862745098", "--print", "--top", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<float> x;
  append_tensor(x, png, 2, 0.00392156862745098f, 0);
  Tensor probs = load(model).compile().run({tensor_of(x, {1, 16, 16, 3})})[0];
  const float* p = probs.data_as<float>();
  int best = static_cast<int>(std::max_element(p, p + 5) - p);
  EXPECT_TRUE(contains(r.out, "output 0 'probs': shape (1, 5)")) << r.out;
  EXPECT_TRUE(contains(r.out, "  values: ")) << r.out;
  EXPECT_TRUE(contains(r.out, "  row 0 top-3: class " + std::to_string(best) + " (")) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '('), 1 + 3)
      << r.out;  // the shape, and three classes
}

TEST_F(CliImage, ImageErrorsAreOneLine) {
  std::ofstream(path("fake.png")) << "not an image";
  ProcessResult r = run_process(cli_path(), {"run", seed_model(), "--image", path("fake.png")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: " + path("fake.png") + ": not a PNG or JPEG image\n");
  write_jpeg(path("t.jpg"), block_image(8, 8));
  fs::resize_file(path("t.jpg"), 20);  // cut inside the header
  ProcessResult t = run_process(cli_path(), {"run", seed_model(), "--image", path("t.jpg")});
  EXPECT_EQ(t.exit_code, 1);
  EXPECT_EQ(t.err.rfind("error: " + path("t.jpg") + ": corrupt or unsupported JPEG: ", 0), 0u)
      << t.err;
  EXPECT_EQ(std::count(t.err.begin(), t.err.end(), '\n'), 1) << t.err;
  ProcessResult size =
      run_process(cli_path(), {"run", seed_model(), "--image", path("t.jpg"), "--resize", "8by8"});
  EXPECT_EQ(size.exit_code, 2);
  EXPECT_TRUE(contains(size.err, "--resize expects WxH")) << size.err;
}

TEST(ImageTensor, GrayIsLumaAndResizeIsBilinearWithHalfPixelCentres) {
  fs::path dir = fs::temp_directory_path() / ("krt_gray_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  Pixels p{2, 1, {255, 0, 0, 0, 0, 255}};  // red, blue
  write_png((dir / "g.png").string(), p);
  cli::ImageOptions gray;
  gray.channels = 1;
  Tensor t = cli::images_to_tensor({(dir / "g.png").string()}, gray);
  ASSERT_EQ(t.shape(), (Shape{1, 1, 2, 1}));
  EXPECT_FLOAT_EQ(t.data_as<float>()[0], 0.299f * 255);
  EXPECT_FLOAT_EQ(t.data_as<float>()[1], 0.114f * 255);
  // 2 -> 4 pixels wide: samples at -0.25 (clamped), 0.25, 0.75, 1.25 (clamped) of the input.
  cli::ImageOptions wide;
  wide.width = 4;
  wide.height = 1;
  Tensor w = cli::images_to_tensor({(dir / "g.png").string()}, wide);
  const float* r = w.data_as<float>();
  EXPECT_FLOAT_EQ(r[0 * 3], 255);
  EXPECT_FLOAT_EQ(r[1 * 3], 0.75f * 255);
  EXPECT_FLOAT_EQ(r[2 * 3], 0.25f * 255);
  EXPECT_FLOAT_EQ(r[3 * 3], 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace krt::test
