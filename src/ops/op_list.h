// The one list of ops. Each entry names the op and its parameter struct (ops/params.h);
// the enum, the names and the params variant are generated from it.
#pragma once

// X(name, ParamsType, "what it computes")
#define KRT_OP_LIST(X)                                                                          \
  X(dense, DenseParams, "y = act(x @ kernel + bias) over the last axis")                        \
  X(conv, ConvParams, "N-d convolution, NHWC, kernel (k..., cin/groups, cout)")                 \
  X(depthwise_conv, ConvParams, "depthwise N-d convolution, kernel (k..., cin, mult)")          \
  X(conv_transpose, ConvParams, "N-d transposed convolution, kernel (k..., cout, cin)")         \
  X(reshape, ReshapeParams, "same bytes, new shape (a view)")                                   \
  X(transpose, TransposeParams, "permute axes")                                                 \
  X(activation, ActivationParams, "element-wise activation")                                    \
  X(axis_activation, AxisActivationParams, "softmax, log_softmax, sparsemax, glu")              \
  X(prelu, PReluParams, "y = x > 0 ? x : alpha * x, alpha broadcast over shared axes")          \
  X(scale_shift, ScaleShiftParams, "y = x * scale + shift along one axis (folded BN)")          \
  X(pool, PoolParams, "max or average N-d pooling")                                             \
  X(global_pool, GlobalPoolParams, "max or average over all spatial axes")                      \
  X(pad, PadParams, "constant padding per axis")                                                \
  X(slice, SliceParams, "crop: begin/end per axis")                                             \
  X(upsample, UpsampleParams, "nearest-neighbour repeat of spatial axes")                       \
  X(elementwise, ElementwiseParams, "add, subtract, multiply, average, maximum, minimum")       \
  X(concat, ConcatParams, "concatenate along an axis")                                          \
  X(identity, IdentityParams, "y = x (Dropout and friends at inference)")                       \
  X(custom, CustomParams, "a custom layer class run by its registered C++ implementation")      \
  X(einsum, EinsumParams, "einsum of inputs (and a kernel), scale, bias, activation")           \
  X(masked_softmax, MaskedSoftmaxParams, "softmax with a mask input / causal mask")             \
  X(l2_normalize, L2NormalizeParams, "x / ||x|| over axes (zero norm counts as 1)")             \
  X(additive_score, AdditiveScoreParams, "sum_d w_d tanh(q_i + k_j) attention scores")          \
  X(normalize, NormalizeParams, "layer/group/RMS/L2 normalization over axes, then scale/shift") \
  X(resize, ResizeParams, "image resize: nearest/linear/cubic/lanczos, half-pixel centres")     \
  X(embedding, EmbeddingParams, "y[..., :] = table[ids[...], :] (Embedding)")                   \
  X(recurrent, RecurrentParams, "SimpleRNN, LSTM or GRU over a sequence, optional mask")        \
  X(compare, CompareParams, "y = (x OP scalar) as 1/0 (mask computations)")                     \
  X(reduce, ReduceParams, "any, all, sum, mean, max, min, prod over axes")                      \
  X(unary, UnaryParams, "element-wise math: abs, sqrt, exp, log, floor, sign, clip, ...")       \
  X(binary, BinaryParams, "broadcast x1 OP x2: arithmetic, power, compare, logical; constants") \
  X(where, WhereParams, "broadcast select: cond ? x1 : x2")                                     \
  X(gather, GatherParams, "numpy.take along one axis, indices from an input or a weight")       \
  X(strided_slice, StridedSliceParams, "Python slicing start:stop:step per axis")               \
  X(shape_of, ShapeOfParams, "the input's shape as a 1-D tensor (tf.shape)")                    \
  X(copy, CopyParams, "y = x moved between memory spaces (inserted by placement)")
