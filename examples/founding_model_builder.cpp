// The founding use case, built in code: Conv2D -> Reshape -> Dense -> Dense -> Reshape ->
// Conv2DTranspose as ONE graph, where both reshapes are free views. It takes its weights from
// the same model saved by Keras, runs both, and shows the outputs are identical.
//
//   founding_model_builder MODEL.keras INPUT.npy
#include <cmath>
#include <iostream>

#include "kerasrt/kerasrt.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: founding_model_builder MODEL.keras INPUT.npy\n";
    return 2;
  }
  try {
    krt::Model loaded = krt::load(argv[1]);
    auto weights = [&](const char* layer) { return loaded.layer_weights(layer); };
    std::vector<krt::Tensor> conv = weights("conv"), fc1 = weights("fc1"), fc2 = weights("fc2"),
                             deconv = weights("deconv");

    int64_t conv_filters = conv[0].dim(3);
    int64_t channels = fc2[0].dim(1) / 16;  // Reshape((4, 4, C))
    krt::GraphBuilder g("seed");
    auto x = g.input("input", {krt::dynamic, 8, 8, 3});
    auto h = g.conv2d(x, conv[0], conv[1], {.activation = krt::ActivationKind::relu}, "conv");
    h = g.reshape(h, {conv_filters}, "flat");  // a view: no bytes move
    h = g.dense(h, fc1[0], fc1[1], krt::ActivationKind::relu, "fc1");
    h = g.dense(h, fc2[0], fc2[1], krt::ActivationKind::relu, "fc2");
    h = g.reshape(h, {4, 4, channels}, "unflat");  // a view again
    h = g.conv2d_transpose(h, deconv[0], deconv[1],
                           {.stride_h = 2, .stride_w = 2, .padding = krt::Padding::same}, "deconv");
    krt::Model built = g.build({h});

    std::cout << built.summary();
    krt::Tensor input = krt::Tensor::from_npy(argv[2]);
    krt::Tensor a = built.compile().run({input})[0];
    krt::Tensor b = loaded.compile().run({input})[0];
    krt::CompileReport report = built.compile().plan_for({input.shape()});
    double worst = 0;
    for (int64_t i = 0; i < a.size(); ++i)
      worst = std::max(
          worst, static_cast<double>(std::fabs(a.data_as<float>()[i] - b.data_as<float>()[i])));
    std::cout << "built in code: output " << krt::shape_to_string(a.shape()) << ", "
              << report.zero_copy_views << " reshapes run as views, peak intermediate memory "
              << report.peak_intermediate_bytes << " bytes\n";
    std::cout << "largest difference from the model loaded from " << argv[1] << ": " << worst
              << "\n";
    if (a.shape() != b.shape() || worst != 0) {
      std::cout << "outputs differ\n";
      return 1;
    }
    std::cout << "outputs are identical\n";
    return 0;
  } catch (const krt::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
