// Loads a model with an installed kerasrt, runs it and prints what came out.
// Usage: consumer MODEL INPUT.npy
#include <iostream>

#include <kerasrt/kerasrt.h>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: consumer MODEL INPUT.npy\n";
    return 2;
  }
  try {
    krt::Model model = krt::load(argv[1]);
    std::vector<krt::Tensor> y = model.compile().run({krt::Tensor::from_npy(argv[2])});
    std::cout << "consumer: model '" << model.name() << "' output "
              << krt::shape_to_string(y.at(0).shape()) << "\n";
  } catch (const krt::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
