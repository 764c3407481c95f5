#!/usr/bin/python3
"""Exports the layer config and weights of single-layer Keras fixtures for the op tests.

For each supported case in tests/data/fixtures/layers/<case>/model.h5 (legacy Keras h5 written by
Keras 3.15.1) this writes tests/data/ops/<case>/layer.json ({"class_name", "config",
"weights": [names in Keras order]}) and one <name>.npy per weight (float32). The C++ test
tests/ops/reference_kernels_test.cpp builds a Node from these by hand and compares the reference
kernel's output on the fixture's input_*.npy with its output_0.npy (Keras's own numbers).

Run from anywhere with /usr/bin/python3 (needs numpy and h5py):
    /usr/bin/python3 tests/data/ops/extract_weights.py
"""

import json
import os
import shutil

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "layers")

# Keras classes the reference kernels cover as a single op (or an op plus a weight fold that the
# test does). Channels-first cases are left to the importer's tests (they need transposes).
SUPPORTED = {
    "Activation", "Dense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose",
    "Conv3DTranspose", "DepthwiseConv1D", "DepthwiseConv2D", "MaxPooling1D", "MaxPooling2D",
    "MaxPooling3D", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "PReLU", "Softmax", "ReLU",
    "LeakyReLU", "ELU", "Permute", "Reshape", "Flatten", "UpSampling1D", "UpSampling2D",
    "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D",
    "Cropping2D", "Cropping3D", "Concatenate", "Add", "Subtract", "Multiply", "Average",
    "Maximum", "Minimum", "Dropout", "BatchNormalization",
}

# Config keys that do not change what the layer computes at inference.
IGNORED_KEYS = {
    "name", "trainable", "dtype", "kernel_initializer", "bias_initializer", "kernel_regularizer",
    "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint",
    "alpha_initializer", "alpha_regularizer", "alpha_constraint", "depthwise_initializer",
    "depthwise_regularizer", "depthwise_constraint", "beta_initializer", "gamma_initializer",
    "moving_mean_initializer", "moving_variance_initializer", "beta_regularizer",
    "gamma_regularizer", "beta_constraint", "gamma_constraint", "seed", "noise_shape",
    "quantization_config", "lora_rank", "lora_alpha", "synchronized", "momentum",
}


def export_case(case):
    path = os.path.join(FIXTURES, case, "model.h5")
    if not os.path.exists(path):
        return False
    with h5py.File(path, "r") as f:
        config = json.loads(f.attrs["model_config"])
        layers = [l for l in config["config"]["layers"] if l["class_name"] != "InputLayer"]
        if len(layers) != 1 or layers[0]["class_name"] not in SUPPORTED:
            return False
        layer = layers[0]
        cfg = {k: v for k, v in layer["config"].items() if k not in IGNORED_KEYS}
        if cfg.get("data_format", "channels_last") != "channels_last":
            return False
        if cfg.get("interpolation", "nearest") != "nearest":
            return False
        group = f["model_weights"][layer["config"]["name"]]
        names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs.get("weight_names", [])]
        out_dir = os.path.join(HERE, case)
        shutil.rmtree(out_dir, ignore_errors=True)
        os.makedirs(out_dir)
        weights = []
        for full in names:  # e.g. "conv/kernel" or "conv/model/conv/kernel": keep the last part
            short = full.split("/")[-1].split(":")[0]
            np.save(os.path.join(out_dir, short + ".npy"), np.asarray(group[full], dtype=np.float32))
            weights.append(short)
        record = {
            "source": f"tests/data/fixtures/layers/{case}/model.h5 (Keras 3.15.1)",
            "class_name": layer["class_name"],
            "config": cfg,
            "weights": weights,
        }
        with open(os.path.join(out_dir, "layer.json"), "w") as out:
            json.dump(record, out, indent=1, sort_keys=True)
            out.write("\n")
    return True


def main():
    exported = [c for c in sorted(os.listdir(FIXTURES)) if export_case(c)]
    with open(os.path.join(HERE, "CASES.txt"), "w") as out:
        out.write("\n".join(exported) + "\n")
    print(f"exported {len(exported)} cases to {HERE}")


if __name__ == "__main__":
    main()
