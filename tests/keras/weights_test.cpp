// .keras weight paths use Keras's snake_case of the class name (keras/src/utils/naming.py).
#include <gtest/gtest.h>

#include "keras/weights.h"

namespace krt::keras {
namespace {

TEST(KerasSnakeCase, MatchesKerasNaming) {
  // Expected values are the keys Keras 3.15.1 wrote into the fixtures' model.weights.h5.
  EXPECT_EQ(keras_snake_case("Dense"), "dense");
  EXPECT_EQ(keras_snake_case("Conv2D"), "conv2d");
  EXPECT_EQ(keras_snake_case("Conv2DTranspose"), "conv2d_transpose");
  EXPECT_EQ(keras_snake_case("ReLU"), "re_lu");
  EXPECT_EQ(keras_snake_case("PReLU"), "p_re_lu");
  EXPECT_EQ(keras_snake_case("BatchNormalization"), "batch_normalization");
  EXPECT_EQ(keras_snake_case("LSTM"), "lstm");
  EXPECT_EQ(keras_snake_case("GlobalAveragePooling2D"), "global_average_pooling2d");
  EXPECT_EQ(keras_snake_case("MultiHeadAttention"), "multi_head_attention");
  EXPECT_EQ(keras_snake_case("InputLayer"), "input_layer");
  EXPECT_EQ(keras_snake_case("Functional"), "functional");
  EXPECT_EQ(keras_snake_case("UpSampling2D"), "up_sampling2d");
  EXPECT_EQ(keras_snake_case("SimpleRNN"), "simple_rnn");
  EXPECT_EQ(keras_snake_case("RMSNormalization"), "rms_normalization");
  EXPECT_EQ(keras_snake_case("EinsumDense"), "einsum_dense");
  EXPECT_EQ(keras_snake_case("LeakyReLU"), "leaky_re_lu");
}

}  // namespace
}  // namespace krt::keras
