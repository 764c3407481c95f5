"""Writes the founding seed model at full size (Conv2D(128, 8) -> Reshape(128) -> Dense(1024) ->
Dense(8192) -> Reshape(4, 4, 512) -> Conv2DTranspose(256, 3, s2, same): 9.7M parameters, the
topology of ../shared/fixtures/seed/seed_full) as a TF.js layers model with random weights, so
the load test has the real seed model's weight traffic without a 39 MB file in the repository.
Its outputs are checked against `kerasrt run`, not against Keras (there are no Keras outputs for
random weights); the Keras-checked seed fixtures cover the import itself."""
import json
import pathlib

import numpy as np


def layer(class_name, name, **config):
    return {"class_name": class_name, "config": dict(config, name=name, trainable=True)}


def write(directory, seed=0):
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    conv = dict(strides=[1, 1], padding="valid", data_format="channels_last", dilation_rate=[1, 1],
                use_bias=True, activation="relu")
    layers = [
        layer("Conv2D", "conv", filters=128, kernel_size=[8, 8], batch_input_shape=[None, 8, 8, 3],
              dtype="float32", **conv),
        layer("Reshape", "flat", target_shape=[128]),
        layer("Dense", "fc1", units=1024, activation="relu", use_bias=True),
        layer("Dense", "fc2", units=8192, activation="relu", use_bias=True),
        layer("Reshape", "unflat", target_shape=[4, 4, 512]),
        layer("Conv2DTranspose", "deconv", filters=256, kernel_size=[3, 3], strides=[2, 2],
              padding="same", data_format="channels_last", dilation_rate=[1, 1], use_bias=True,
              activation="linear"),
    ]
    shapes = [("conv/kernel", [8, 8, 3, 128]), ("conv/bias", [128]),
              ("fc1/kernel", [128, 1024]), ("fc1/bias", [1024]),
              ("fc2/kernel", [1024, 8192]), ("fc2/bias", [8192]),
              ("deconv/kernel", [3, 3, 256, 512]), ("deconv/bias", [256])]
    blobs = []
    for name, shape in shapes:
        fan_in = int(np.prod(shape[:-1])) if name.endswith("kernel") else 1
        std = 1.41 / np.sqrt(fan_in) if name.endswith("kernel") else 0.2
        blobs.append(rng.normal(0, std, shape).astype("<f4").tobytes())
    (directory / "weights.bin").write_bytes(b"".join(blobs))
    model = {
        "format": "layers-model",
        "generatedBy": "kerasrt tests/serve/founding_model.py",
        "convertedBy": None,
        "modelTopology": {"class_name": "Sequential", "keras_version": "2.15.0", "backend": "tensorflow",
                          "config": {"name": "founding", "layers": layers}},
        "weightsManifest": [{"paths": ["weights.bin"], "weights": [
            {"name": n, "shape": s, "dtype": "float32"} for n, s in shapes]}],
    }
    (directory / "model.json").write_text(json.dumps(model))
    return directory / "model.json"


if __name__ == "__main__":
    import sys
    print(write(sys.argv[1]))
