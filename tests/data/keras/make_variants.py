#!/usr/bin/env python3
"""Makes variants of Keras 3 golden fixtures whose results still follow from the fixtures' real
Keras outputs; only config.json is rewritten, the layers' configs and the weights file
(model.weights.h5, whose keys do not depend on the model class) are kept. Standard library only:
    python3 tests/data/keras/make_variants.py

- sequential_mask_zero / sequential_masking: Sequential twins of Functional models whose masks
  Keras records explicitly (NotEqual/Any op nodes, an RNN `mask` kwarg). A Sequential config
  records no mask: Keras propagates it from Embedding(mask_zero=True) or Masking to the LSTM by
  itself, so the fixture's output tests implicit mask propagation.
- lstm_initial_state_t3: the lstm_return_state LSTM over 3 of its 6 steps, called with
  initial_state=[h0, c0] as kwarg tensors: running steps 0-2 and then 3-5 from the states of
  the first run must give the fixture's outputs for all 6 steps.
- bidir_none_states: bidir_lstm_concat with merge_mode None and return_state, as a Functional
  model with 6 outputs: y, y_rev, h_fwd, c_fwd, h_bwd, c_bwd. y and y_rev are the halves of the
  fixture's concat output, and h_fwd / h_bwd equal them.
"""
import json
import os
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")
CASES = {
    "sequential_mask_zero.keras": "models/text_classifier_lstm_mask_zero",
    "sequential_masking.keras": "layers/masking_lstm",
}


def sequential_twin(functional):
    layers = []
    for layer in functional["config"]["layers"]:
        if layer.get("module", "").startswith("keras.src.ops"):
            continue  # the mask computation Keras wrote out for the Functional model
        layer = {k: v for k, v in layer.items() if k != "inbound_nodes"}
        layers.append(layer)
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": functional["config"]["name"], "trainable": True, "layers": layers},
        "registered_name": None,
    }


def tensor(layer, shape, index=0):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": shape, "dtype": "float32", "keras_history": [layer, 0, index]}}


def input_layer(name, shape):
    return {"module": "keras.layers", "class_name": "InputLayer", "name": name, "inbound_nodes": [],
            "config": {"batch_shape": shape, "dtype": "float32", "sparse": False, "ragged": False, "name": name,
                       "optional": False}, "registered_name": None}


def functional(name, layers, inputs, outputs):
    return {"module": "keras.src.models.functional", "class_name": "Functional", "registered_name": "Functional",
            "config": {"name": name, "trainable": True, "layers": layers,
                       "input_layers": [[n, 0, 0] for n in inputs], "output_layers": outputs}}


def lstm_initial_state(fixture):
    lstm = next(l for l in fixture["config"]["layers"] if l["class_name"] == "LSTM")
    lstm = json.loads(json.dumps(lstm))
    units = lstm["config"]["units"]
    lstm["inbound_nodes"] = [{"args": [tensor("x", [None, 3, 3])],
                              "kwargs": {"training": False, "mask": None,
                                         "initial_state": [tensor("h0", [None, units]), tensor("c0", [None, units])]}}]
    layers = [input_layer("x", [None, 3, 3]), input_layer("h0", [None, units]), input_layer("c0", [None, units]), lstm]
    name = lstm["name"]
    return functional("model", layers, ["x", "h0", "c0"], [[name, 0, 0], [name, 0, 1], [name, 0, 2]])


def bidir_none_states(fixture):
    layers = fixture["config"]["layers"]
    bidir = json.loads(json.dumps(next(l for l in layers if l["class_name"] == "Bidirectional")))
    bidir["config"]["merge_mode"] = None
    for key in ("layer", "backward_layer"):
        bidir["config"][key]["config"]["return_state"] = True
    shape = layers[0]["config"]["batch_shape"]
    bidir["name"] = bidir["config"]["name"]
    bidir["inbound_nodes"] = [{"args": [tensor("input", shape)], "kwargs": {"mask": None}}]
    return functional("model", [input_layer("input", shape), bidir], ["input"],
                      [[bidir["name"], 0, k] for k in range(6)])


def write(out_name, case, make):
    src = os.path.join(FIXTURES, case, "model.keras")
    with zipfile.ZipFile(src) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    config = make(json.loads(entries["config.json"]))
    entries["config.json"] = json.dumps(config, indent=1).encode()
    with zipfile.ZipFile(os.path.join(HERE, out_name), "w", zipfile.ZIP_DEFLATED) as z:
        for name in ("metadata.json", "config.json", "model.weights.h5"):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, entries[name])


def main():
    for out_name, case in CASES.items():
        write(out_name, case, sequential_twin)
    write("lstm_initial_state_t3.keras", "layers/lstm_return_state", lstm_initial_state)
    write("bidir_none_states.keras", "layers/bidir_lstm_concat", bidir_none_states)


if __name__ == "__main__":
    main()
