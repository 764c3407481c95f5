#!/usr/bin/python3
"""Generates tests/data/malformed/: broken variants of real Keras fixtures, and MANIFEST.tsv.

Each line of the manifest is `file<TAB>expect<TAB>what`, where expect is
  refuse  loading must throw krt::Error (the CLI prints one `error:` line); never a crash
  load    the file is odd but valid (NaN/Inf weights, float64 weights): it must load and run
  either  the damage may or may not matter (a flipped bit in a field nobody reads): it must
  load and run, or be refused with krt::Error; never a crash.
tests/golden/malformed_corpus_test.cpp checks every file. Deterministic: rerunning writes the
same bytes (except HDF5 modification times in the libver="latest" huge_* files). Needs numpy and h5py (/usr/bin/python3 has them).

    /usr/bin/python3 scripts/make_malformed_corpus.py
"""
import io
import json
import pathlib
import random
import shutil
import struct
import warnings
import zipfile

import h5py
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "data" / "fixtures"
OUT = ROOT / "tests" / "data" / "malformed"
BASE = FIXTURES / "layers" / "dense_bias"  # Sequential: Input(12) -> Dense(16); 12 KB each

manifest = []


def emit(name, data, expect, what, mention=""):
    """`mention`: a word the error message must contain (the refused class, for code)."""
    assert expect in ("refuse", "load", "either")
    (OUT / name).write_bytes(data)
    manifest.append((name, expect, what, mention))


# ---- zip (.keras) helpers: the fixtures store members uncompressed ------------------------

def zip_members(data):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def make_zip(members, method=zipfile.ZIP_STORED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as z:
        for name, body in members:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = method
            z.writestr(info, body)
    return buf.getvalue()


def replace_member(data, name, body):
    return make_zip([(n, body if n == name else b) for n, b in zip_members(data)])


def eocd_offset(data):
    return data.rindex(b"PK\x05\x06")


def central_entries(data):
    """Offsets of the central directory headers, in order."""
    e = eocd_offset(data)
    count, = struct.unpack_from("<H", data, e + 10)
    pos, = struct.unpack_from("<I", data, e + 16)
    offs = []
    for _ in range(count):
        offs.append(pos)
        n, m, k = struct.unpack_from("<HHH", data, pos + 28)
        pos += 46 + n + m + k
    return offs


def patch(data, offset, fmt, *values):
    b = bytearray(data)
    struct.pack_into(fmt, b, offset, *values)
    return bytes(b)


def keras_config(data):
    return json.loads(dict(zip_members(data))["config.json"])


def with_config(data, config):
    return replace_member(data, "config.json", json.dumps(config).encode())


# ---- HDF5 helpers ---------------------------------------------------------------------------

def h5_bytes(build, libver="earliest"):
    buf = io.BytesIO()
    with h5py.File(buf, "w", libver=libver) as f:  # "latest": compact v2 headers, smallest files
        build(f)
    return buf.getvalue()


def keras3_weights(kernel, bias):
    def build(f):
        vars_ = f.create_group("layers/dense/vars")
        vars_.create_dataset("0", data=kernel)
        vars_.create_dataset("1", data=bias)
        f.create_group("optimizer")
        f.attrs["date_saved"] = "2024-01-01@00:00:00"
    return h5_bytes(build)


def dataset_header_addr(data, path):
    with h5py.File(io.BytesIO(data), "r") as f:
        return h5py.h5o.get_info(f[path].id).addr, f[path].id.get_offset(), f[path].shape


def patch_dims(data, path, new_dims):
    """Rewrites a dataset's dataspace dims (found after its object header) in place."""
    addr, _, shape = dataset_header_addr(data, path)
    old = struct.pack("<" + "Q" * len(shape), *shape)
    at = data.index(old, addr)
    return data[:at] + struct.pack("<" + "Q" * len(new_dims), *new_dims) + data[at + len(old):]


def patch_data_address(data, path, new_addr):
    addr, offset, _ = dataset_header_addr(data, path)
    at = data.index(struct.pack("<Q", offset), addr)
    return data[:at] + struct.pack("<Q", new_addr) + data[at + 8:]


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    rng = random.Random(5)
    keras = (BASE / "model.keras").read_bytes()
    h5 = (BASE / "model.h5").read_bytes()
    members = dict(zip_members(keras))
    weights = members["model.weights.h5"]

    # Truncations at many offsets: every prefix must be refused (the zip end record or the
    # HDF5 end-of-file address gives it away).
    for frac in [0.0005, 0.002, 0.01, 0.03, 0.08, 0.12, 0.2, 0.3, 0.45, 0.6, 0.75, 0.9, 0.99, 0.9995]:
        n = max(1, int(len(keras) * frac))
        emit(f"trunc_keras_{n}.keras", keras[:n], "refuse", f"first {n} of {len(keras)} bytes")
        n = max(1, int(len(h5) * frac))
        emit(f"trunc_h5_{n}.h5", h5[:n], "refuse", f"first {n} of {len(h5)} bytes")

    # Bit flips in headers: zip signatures must be refused; other header bits may be harmless.
    cd = central_entries(keras)
    for i, off in enumerate(cd):
        emit(f"flip_cd_sig_{i}.keras", patch(keras, off, "<I", 0x02014b51), "refuse", "central header signature")
    emit("flip_eocd_sig.keras", patch(keras, eocd_offset(keras), "<I", 0x06054b51), "refuse", "end record signature")
    emit("flip_local_sig.keras", patch(keras, 0, "<I", 0x04034b55), "refuse", "first local header signature")
    for k in range(10):
        b = bytearray(keras)
        base = rng.choice(cd + [0, eocd_offset(keras)])
        bit = rng.randrange(8 * 30)
        b[base + bit // 8] ^= 1 << (bit % 8)
        emit(f"flip_zip_header_{k}.keras", bytes(b), "either", f"bit {bit} of the header at {base}")
    for k in range(12):
        b = bytearray(h5)
        bit = rng.randrange(8 * 96)  # the superblock and what follows
        b[bit // 8] ^= 1 << (bit % 8)
        emit(f"flip_h5_superblock_{k}.h5", bytes(b), "either", f"bit {bit} of the superblock")
    emit("h5_bad_magic.h5", b"\x89HDF\r\n\x1a\x0b" + h5[8:], "refuse", "HDF5 signature")
    for k in range(8):
        b = bytearray(weights)
        pos = rng.randrange(96, min(len(weights), 2048))
        b[pos] ^= 1 << rng.randrange(8)
        emit(f"flip_weights_{k}.keras", replace_member(keras, "model.weights.h5", bytes(b)), "either",
             f"a bit of model.weights.h5 byte {pos}")

    # Lying sizes and offsets in the zip.
    for i, off in enumerate(cd):
        emit(f"zip_cd_size_huge_{i}.keras", patch(keras, off + 20, "<II", 0xFFFFFFFE, 0xFFFFFFFE), "refuse",
             "central entry sizes near 4 GiB")
        emit(f"zip_cd_offset_out_{i}.keras", patch(keras, off + 42, "<I", len(keras) + 1000), "refuse",
             "local header offset past the end")
        emit(f"zip_cd_name_len_{i}.keras", patch(keras, off + 28, "<H", 0xFFFF), "refuse", "file name length 65535")
    e = eocd_offset(keras)
    emit("zip_eocd_count_huge.keras", patch(keras, e + 8, "<HH", 0xFFFE, 0xFFFE), "refuse", "65534 members")
    emit("zip_eocd_cd_offset_out.keras", patch(keras, e + 16, "<I", 0x7FFFFFFF), "refuse", "directory past the end")
    emit("zip_eocd_cd_size_huge.keras", patch(keras, e + 12, "<I", 0xFFFFFFF0), "refuse", "directory size 4 GiB")
    emit("zip_local_size_lie.keras", patch(keras, 18, "<II", 0x7FFFFFFF, 0x7FFFFFFF), "refuse",
         "first local header sizes disagree with the directory")
    # A deflated config that claims 1 TB: the declared size is above any plausible ratio.
    deflated = make_zip(list(members.items()), zipfile.ZIP_DEFLATED)
    off = central_entries(deflated)[1]
    lie = patch(deflated, off + 24, "<I", 0xFFFFFFFF)
    emit("zip_deflate_claims_4g.keras", lie, "refuse", "deflated config.json claims 4 GiB uncompressed")
    emit("zip_deflate_garbage.keras", corrupt_deflate(deflated), "refuse", "deflate stream bytes overwritten")
    with warnings.catch_warnings():  # zipfile warns about the duplicate we want
        warnings.simplefilter("ignore")
        duplicate = make_zip(list(members.items()) + [("config.json", members["config.json"])])
    emit("zip_duplicate_config.keras", duplicate, "refuse",
         "two config.json members")
    emit("zip_no_members.keras", make_zip([]), "refuse", "an empty archive")
    emit("zip_encrypted_flag.keras", patch(keras, cd[1] + 8, "<H", 1), "refuse", "encrypted flag on config.json")

    # Lying sizes and offsets in HDF5 weights: a 2^40-element kernel, data past the end.
    emit("h5_dims_2e40.keras", replace_member(keras, "model.weights.h5",
                                              patch_dims(weights, "layers/dense/vars/0", [1 << 20, 1 << 20])),
         "refuse", "kernel dataspace claims 2^40 elements")
    emit("h5_dims_rank_mismatch.keras", replace_member(keras, "model.weights.h5",
                                                       patch_dims(weights, "layers/dense/vars/0", [12, 17])),
         "refuse", "kernel dataspace (12, 17) over (12, 16) of data")
    emit("h5_data_addr_out.keras", replace_member(keras, "model.weights.h5",
                                                  patch_data_address(weights, "layers/dense/vars/0", 1 << 40)),
         "refuse", "kernel data at address 2^40")
    emit("h5_data_addr_undefined.keras", replace_member(keras, "model.weights.h5",
                                                        patch_data_address(weights, "layers/dense/vars/1", (1 << 64) - 1)),
         "either", "bias data never written (undefined address: zeros)")
    legacy_kernel = "model_weights/dense/model/dense/kernel"
    emit("h5_legacy_dims_2e40.h5", patch_dims(h5, legacy_kernel, [1 << 20, 1 << 20]), "refuse",
         "legacy kernel claims 2^40 elements")
    emit("h5_legacy_data_addr_out.h5", patch_data_address(h5, legacy_kernel, len(h5) + 4096), "refuse",
         "legacy kernel data past the end")

    # Deeply nested JSON and oversized configs.
    emit("json_nested_arrays.keras", replace_member(keras, "config.json", b"[" * 20000 + b"]" * 20000), "refuse",
         "config.json nested 20000 deep")
    emit("json_nested_objects.keras",
         replace_member(keras, "config.json", b'{"a":' * 5000 + b"1" + b"}" * 5000), "refuse", "objects 5000 deep")
    emit("json_unterminated.keras", replace_member(keras, "config.json", members["config.json"][:-7]), "refuse",
         "config.json cut short")
    emit("json_not_object.keras", replace_member(keras, "config.json", b"42"), "refuse", "config.json is a number")
    emit("json_bad_utf8.keras", replace_member(keras, "config.json",
                                               members["config.json"].replace(b'"dense"', b'"\xff\xfe"', 1)),
         "refuse", "invalid UTF-8 in a string")
    cfg = keras_config(keras)
    nested = {"class_name": "Sequential", "config": {"name": "m", "layers": []}}
    for _ in range(50):  # 200 JSON levels: within the JSON depth limit, above the model nesting limit
        nested = {"class_name": "Sequential", "config": {"name": "m", "layers": [nested]}}
    emit("config_nested_models_50.keras", with_config(keras, nested), "refuse", "50 nested Sequential models")

    # Configs with wrong structure: missing layers, cycles, bad shapes and values; each a small
    # Functional fixture with its real weights, so only the damage can cause the refusal.
    def fvariant(name, base, mutate, expect, what):
        data = (FIXTURES / "layers" / base / "model.keras").read_bytes()
        c = keras_config(data)
        mutate(c["config"])
        emit(name, with_config(data, c), expect, what)

    def inbound(layer):
        return layer["inbound_nodes"][0]["args"][0]["config"]["keras_history"]

    def missing_layer(c):
        inbound(c["layers"][1])[0] = "no_such_layer"

    def self_cycle(c):
        inbound(c["layers"][1])[0] = c["layers"][1]["name"]

    def two_cycle(c):
        # A second copy of the Dense fed by the first, and the first fed by the copy.
        twin = json.loads(json.dumps(c["layers"][1]))
        twin["name"] = twin["config"]["name"] = "twin"
        inbound(twin)[0] = c["layers"][1]["name"]
        inbound(c["layers"][1])[0] = "twin"
        c["layers"].append(twin)

    def bad_node_index(c):
        inbound(c["layers"][1])[1] = 7

    def bad_tensor_index(c):
        inbound(c["layers"][1])[2] = 3

    def missing_output(c):
        c["output_layers"] = [["ghost", 0, 0]]

    def missing_input(c):
        c["input_layers"] = [["ghost", 0, 0]]

    def duplicate_names(c):
        c["layers"][1]["name"] = c["layers"][0]["name"]
        c["layers"][1]["config"]["name"] = c["layers"][0]["name"]

    def no_layers(c):
        c["layers"] = []

    def layers_not_list(c):
        c["layers"] = {"a": 1}

    def negative_filters(c):
        c["layers"][1]["config"]["filters"] = -16

    def huge_units(c):
        for l in c["layers"]:
            if l["class_name"] == "Dense":
                l["config"]["units"] = 1 << 40
                break

    def float_units(c):
        for l in c["layers"]:
            if l["class_name"] == "Dense":
                l["config"]["units"] = 1e300
                break

    def zero_kernel(c):
        c["layers"][1]["config"]["kernel_size"] = [0, 0]

    def huge_input(c):
        c["layers"][0]["config"]["batch_shape"] = [None, 1 << 31, 1 << 31, 2]

    def rank_100_input(c):
        c["layers"][0]["config"]["batch_shape"] = [None] + [1] * 100

    def reshape_lie(c):
        for l in c["layers"]:
            if l["class_name"] == "Reshape":
                l["config"]["target_shape"] = [3, 5, 7]
                break

    for name, base, fn, what in [
        ("config_missing_layer", "dense_3d_input", missing_layer, "inbound node names a layer that does not exist"),
        ("config_self_cycle", "dense_3d_input", self_cycle, "a layer is its own input"),
        ("config_two_cycle", "dense_3d_input", two_cycle, "two layers feed each other"),
        ("config_bad_node_index", "dense_3d_input", bad_node_index, "inbound node index 7"),
        ("config_bad_tensor_index", "dense_3d_input", bad_tensor_index, "inbound tensor index 3"),
        ("config_missing_output", "dense_3d_input", missing_output, "output_layers names a ghost"),
        ("config_missing_input", "dense_3d_input", missing_input, "input_layers names a ghost"),
        ("config_duplicate_names", "dense_3d_input", duplicate_names, "two layers with one name"),
        ("config_no_layers", "dense_3d_input", no_layers, "empty layer list"),
        ("config_layers_not_list", "dense_3d_input", layers_not_list, "layers is an object"),
        ("config_negative_filters", "conv2d_same_s1_relu", negative_filters, "Conv2D filters -16"),
        ("config_huge_units", "dense_3d_input", huge_units, "Dense units 2^40"),
        ("config_float_units", "dense_3d_input", float_units, "Dense units 1e300"),
        ("config_zero_kernel", "conv2d_same_s1_relu", zero_kernel, "Conv2D kernel_size (0, 0)"),
        ("config_huge_input", "conv2d_same_s1_relu", huge_input, "input of 2^62 elements per sample"),
        ("config_rank_100_input", "conv2d_same_s1_relu", rank_100_input, "rank-101 input"),
        ("config_reshape_lie", "reshape_3d", reshape_lie, "Reshape to a size that does not match"),
    ]:
        fvariant(name + ".keras", base, fn, "refuse", what)

    # Code-bearing constructs: never run, always refused by name.
    def seq_with(layer):
        c = json.loads(json.dumps(cfg))
        c["config"]["layers"].append(layer)
        return with_config(keras, c)

    emit("code_lambda.keras", seq_with({"module": "keras.layers", "class_name": "Lambda", "config": {
        "name": "evil", "function": {"class_name": "__lambda__", "config": {
            "code": "4wEAAAAAAAAAAAAAAAEAAAADAAAAQwAAAHMEAAAAfABTAKkBTqmAKQHaAXipAHIBAAAA",
            "defaults": None, "closure": None}}}, "registered_name": None}), "refuse", "Lambda layer with bytecode", "Lambda")
    emit("code_custom_class.keras", seq_with({"module": "my_package.layers", "class_name": "Backdoor",
                                              "config": {"name": "b"}, "registered_name": "Custom>Backdoor"}),
         "refuse", "custom layer class without a registered implementation", "Backdoor")
    emit("code_lambda_activation.keras", seq_with({"module": "keras.layers", "class_name": "Activation", "config": {
        "name": "act", "activation": {"class_name": "__lambda__", "config": {"code": "AAAA", "defaults": None,
                                                                              "closure": None}}}}),
         "refuse", "activation given as a serialized Python lambda")
    emit("code_function_activation.keras", seq_with({"module": "keras.layers", "class_name": "Activation", "config": {
        "name": "act", "activation": {"module": "os", "class_name": "function", "config": "system",
                                      "registered_name": "function"}}}),
         "refuse", "activation naming os.system")
    emit("code_tfoplambda.keras", seq_with({"module": "keras.layers", "class_name": "TFOpLambda", "config": {
        "name": "op", "function": "math.add"}}), "refuse", "TFOpLambda layer", "TFOpLambda")
    c = json.loads(json.dumps(cfg))
    c["module"], c["class_name"], c["registered_name"] = "evil.models", "EvilModel", "Custom>EvilModel"
    emit("code_custom_model.keras", with_config(keras, c), "refuse", "custom model class", "EvilModel")

    # Weights of the wrong shape or dtype; NaN/Inf weights (valid: must load and run).
    kernel = np.random.default_rng(5).standard_normal((12, 16)).astype(np.float32)
    bias = np.zeros(16, np.float32)

    def with_weights(k, b):
        return replace_member(keras, "model.weights.h5", keras3_weights(k, b))

    emit("weights_kernel_shape.keras", with_weights(kernel[:, :15], bias), "refuse", "kernel (12, 15)")
    emit("weights_kernel_transposed.keras", with_weights(kernel.T.copy(), bias), "refuse", "kernel (16, 12)")
    emit("weights_bias_shape.keras", with_weights(kernel, np.zeros(17, np.float32)), "refuse", "bias (17,)")
    emit("weights_kernel_scalar.keras", with_weights(np.float32(1.0), bias), "refuse", "kernel is a scalar")
    emit("weights_kernel_strings.keras", with_weights(np.array([b"a"] * 16), bias), "refuse", "kernel of strings")
    emit("weights_missing_bias.keras", replace_member(keras, "model.weights.h5", h5_bytes(
        lambda f: f.create_dataset("layers/dense/vars/0", data=kernel))), "refuse", "no bias")
    emit("weights_empty_file.keras", replace_member(keras, "model.weights.h5", b""), "refuse", "empty weights file")
    emit("weights_not_hdf5.keras", replace_member(keras, "model.weights.h5", b"not an hdf5 file" * 8), "refuse",
         "weights file is text")
    emit("weights_kernel_int32.keras", with_weights(kernel.astype(np.int32), bias), "either", "int32 kernel")
    emit("weights_kernel_f64.keras", with_weights(kernel.astype(np.float64), bias), "load", "float64 kernel")
    emit("weights_kernel_f16.keras", with_weights(kernel.astype(np.float16), bias), "load", "float16 kernel")
    for tag, value in [("nan", np.nan), ("inf", np.inf), ("neginf", -np.inf)]:
        k = kernel.copy()
        k[3, 5] = value
        emit(f"weights_{tag}.keras", with_weights(k, bias), "load", f"kernel with a {tag} element")
    emit("weights_all_nan.keras", with_weights(np.full((12, 16), np.nan, np.float32), np.full(16, np.inf, np.float32)),
         "load", "all-NaN kernel and Inf bias")

    # .npy inputs: lying shapes and malformed headers.
    def npy(header, body=b""):
        h = header.encode()
        h += b" " * (63 - (10 + len(h)) % 64) + b"\n"
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + body

    good = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 12), }"
    emit("npy_good.npy", npy(good, np.ones((1, 12), np.float32).tobytes()), "load", "a valid (1, 12) input")
    for name, header, body, what in [
        ("npy_shape_2e40", "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }", b"\0" * 16,
         "claims 2^40 elements"),
        ("npy_shape_overflow", "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }",
         b"", "element count overflows 64 bits"),
        ("npy_negative_dim", "{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 12), }", b"", "dimension -1"),
        ("npy_truncated_data", good, b"\0" * 20, "20 of 48 data bytes"),
        ("npy_extra_data", good, b"\0" * 60, "60 bytes for 48"),
        ("npy_bad_descr", "{'descr': '<c16', 'fortran_order': False, 'shape': (1, 12), }", b"\0" * 192,
         "complex dtype"),
        ("npy_object", "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", b"\0" * 8, "object dtype"),
        ("npy_fortran", "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 12), }", b"\0" * 48, "Fortran order"),
        ("npy_unterminated", "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 12", b"", "header cut short"),
        ("npy_nested", "{'descr': {'descr': {'descr': '<f4'}}, 'shape': (1,), }", b"", "nested dicts"),
        ("npy_rank_64", "{'descr': '<f4', 'fortran_order': False, 'shape': (" + "1, " * 64 + "), }", b"\0" * 4,
         "rank 64"),
    ]:
        emit(name + ".npy", npy(header, body), "refuse", what)
    emit("npy_header_len_lie.npy", b"\x93NUMPY\x01\x00\xff\xff{'descr': '<f4'", "refuse", "header length 65535")
    emit("npy_v2_header_len_4g.npy", b"\x93NUMPY\x02\x00\xff\xff\xff\xff{'descr'", "refuse", "header length 4 GiB")

    # Tiny files (a few KB) that claim a 2^40-element kernel (4 TiB): valid structure, storage
    # never written. Must be refused before any large allocation, whatever the limits say
    # (tests/io/huge_claims_test.cpp loads them under a 1 GiB address-space limit).
    n = 1 << 20
    big_cfg = keras_config(keras)
    big_cfg["config"]["layers"][0]["config"]["batch_shape"] = [None, n]
    big_cfg["config"]["layers"][1]["config"]["units"] = n
    big_cfg["config"]["layers"][1]["build_config"] = {"input_shape": [None, n]}
    big_cfg["config"].pop("build_input_shape", None)
    big_cfg.pop("build_config", None)

    def huge_keras3(f):
        vars_ = f.create_group("layers/dense/vars")
        vars_.create_dataset("0", shape=(n, n), dtype="f4", track_times=False)  # contiguous, allocated late: never
        vars_.create_dataset("1", shape=(n,), dtype="f4", track_times=False)
    emit("huge_2e40_kernel.keras", make_zip([("metadata.json", members["metadata.json"]),
                                             ("config.json", json.dumps(big_cfg).encode()),
                                             ("model.weights.h5", h5_bytes(huge_keras3, "latest"))]),
         "refuse", "a 4 TiB kernel in a few KB")

    emit("huge_1tb_dataset.h5", h5_bytes(lambda f: f.create_dataset("data", shape=(1 << 38,), dtype="f4", track_times=False), "latest"),
         "refuse", "an HDF5 file (not a model) whose one dataset claims 1 TiB")
    with h5py.File(io.BytesIO(h5), "r") as src:
        legacy_cfg = json.loads(src.attrs["model_config"])
        root_attrs = {k: v for k, v in src.attrs.items() if k != "model_config"}
        mw_attrs = dict(src["model_weights"].attrs)
        names = list(src["model_weights/dense"].attrs["weight_names"])
    legacy_cfg["config"]["layers"][0]["config"]["batch_shape"] = [None, n]
    legacy_cfg["config"]["layers"][1]["config"]["units"] = n

    def huge_legacy(f):
        f.attrs["model_config"] = json.dumps(legacy_cfg)
        for k, v in root_attrs.items():
            f.attrs[k] = v
        mw = f.create_group("model_weights")
        for k, v in mw_attrs.items():
            mw.attrs[k] = v
        mw.create_group("dense").attrs["weight_names"] = names
        mw.create_dataset("dense/model/dense/kernel", shape=(n, n), dtype="f4", track_times=False)
        mw.create_dataset("dense/model/dense/bias", shape=(n,), dtype="f4", track_times=False)
    emit("huge_2e40_kernel.h5", h5_bytes(huge_legacy, "latest"), "refuse", "a 4 TiB kernel in a few KB (legacy .h5)")

    # Odd containers.
    emit("empty.keras", b"", "refuse", "empty file")
    emit("not_a_model.keras", b"PK\x03\x04" + b"\0" * 26, "refuse", "a zip local header and nothing else")
    emit("h5_only_superblock.h5", h5[:96], "refuse", "superblock without objects")
    emit("h5_weights_only.h5", weights, "refuse", "a weights file given as a model")

    with open(OUT / "MANIFEST.tsv", "w") as f:
        f.write("# file\texpect\twhat\tmention (written by scripts/make_malformed_corpus.py)\n")
        for row in manifest:
            f.write("\t".join(row) + "\n")
    total = sum((OUT / row[0]).stat().st_size for row in manifest)
    print(f"{len(manifest)} files, {total // 1024} KB in {OUT.relative_to(ROOT)}")


def corrupt_deflate(data):
    """Overwrites bytes in the middle of the second member's deflate stream."""
    off = central_entries(data)[1]
    local, = struct.unpack_from("<I", data, off + 42)
    n, m = struct.unpack_from("<HH", data, local + 26)
    start = local + 30 + n + m + 40
    b = bytearray(data)
    b[start:start + 32] = b"\xff" * 32
    return bytes(b)


if __name__ == "__main__":
    main()
