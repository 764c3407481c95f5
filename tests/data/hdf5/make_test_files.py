#!/usr/bin/python3
"""Writes the small HDF5 files used by tests/io/hdf5_test.cpp (run with /usr/bin/python3: it
needs numpy and h5py). Every value is a simple formula of np.arange so the C++ test can state
the expected numbers independently of our reader. Files are deterministic in content (not in
bytes: HDF5 does not promise that)."""
import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def ramp(shape, dtype, scale=1.0, offset=0.0):
    """value[i] = offset + scale * i over the flattened array."""
    n = int(np.prod(shape))
    return (offset + scale * np.arange(n, dtype=np.float64)).reshape(shape).astype(dtype)


def write_features():
    # Default libver: superblock v0, object header v1, symbol-table groups, layout v3.
    with h5py.File(path("features.h5"), "w") as f:
        f.attrs["vlen_scalar"] = "hello"                                  # vlen str, scalar
        f.attrs.create("vlen_list", ["a", "bb", "", "dddd"], dtype=h5py.string_dtype())
        f.attrs["fixed_list"] = np.array([b"conv", b"dense_1", b"x"])     # S7, null-padded
        f.attrs["fixed_scalar"] = np.bytes_(b"fixed")
        f.attrs["int_list"] = np.array([1, -2, 300], dtype=np.int32)
        f.attrs["float_scalar"] = np.float64(0.25)
        f.attrs["u8_list"] = np.array([0, 255], dtype=np.uint8)
        f.attrs["empty_list"] = np.zeros((0,), dtype=np.float64)

        g = f.create_group("group/sub")
        g.attrs["weight_names"] = np.array([b"dense/kernel:0", b"dense/bias:0"])
        g.create_dataset("kernel:0", data=ramp((4, 3), np.float32, 0.5, -1.0))
        g.create_dataset("bias:0", data=ramp((3,), np.float32, -2.0))

        d = f.create_group("data")
        d.create_dataset("f32", data=ramp((2, 3, 4), np.float32, 0.25, 1.0))
        d.create_dataset("f16", data=ramp((5, 2), np.float16, 0.5, -2.0))
        d.create_dataset("f64", data=ramp((7,), np.float64, 0.1, 3.0))
        d.create_dataset("i64", data=(np.arange(6, dtype=np.int64) - 3) * 10**12)
        d.create_dataset("i8", data=np.arange(-4, 4, dtype=np.int8))
        d.create_dataset("u16", data=np.arange(0, 60000, 10000, dtype=np.uint16))
        d.create_dataset("f32_be", data=ramp((3, 2), ">f4", 1.5, -1.0))
        d.create_dataset("i32_be", data=np.arange(-3, 3, dtype=">i4") * 1000)
        d.create_dataset("scalar", data=np.float32(42.5))
        d.create_dataset("empty", data=np.zeros((0, 4), np.float32))
        d.create_dataset("unwritten", shape=(2, 2), dtype=np.float32)     # no storage allocated
        # Chunked: dims not a multiple of the chunk dims, so edge chunks are clipped.
        d.create_dataset("gzip_shuffle", data=ramp((37, 13), np.float32, 0.01, -2.0),
                         chunks=(8, 5), compression="gzip", compression_opts=6, shuffle=True)
        d.create_dataset("gzip_3d", data=ramp((3, 5, 7), np.float64, 1.0),
                         chunks=(2, 2, 3), compression="gzip")
        d.create_dataset("chunked_plain", data=ramp((10,), np.int32, 3.0),
                         chunks=(4,))
        d.create_dataset("fletcher", data=ramp((9,), np.float32, 2.0), chunks=(4,),
                         fletcher32=True)
        d.create_dataset("lzf", data=ramp((9,), np.float32), chunks=(4,), compression="lzf")
        d.create_dataset("strings", data=np.array([b"ab", b"cd"]))
        # Compact layout: the data lives inside the object header.
        space = h5py.h5s.create_simple((4,))
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_layout(h5py.h5d.COMPACT)
        ds = h5py.h5d.create(d.id, b"compact", h5py.h5t.NATIVE_FLOAT, space, dcpl=dcpl)
        ds.write(h5py.h5s.ALL, h5py.h5s.ALL, ramp((4,), np.float32, 1.0, 10.0))


def write_latest():
    # libver='latest': superblock v3, object header v2 (checksummed), link messages.
    with h5py.File(path("latest.h5"), "w", libver="latest") as f:
        f.attrs["name"] = "latest"
        f.attrs["fixed_list"] = np.array([b"one", b"two", b"three"])
        g = f.create_group("layers/dense")
        g.attrs.create("weight_names", ["kernel:0", "bias:0"], dtype=h5py.string_dtype())
        g.create_dataset("kernel:0", data=ramp((3, 2), np.float32, 1.0, -3.0))
        g.create_dataset("bias:0", data=ramp((2,), np.float32, 0.5))
        g.create_dataset("f16", data=ramp((4,), np.float16, 0.25))
        f.create_group("empty_group")
        # Chunked storage under libver='latest' uses the newer chunk indexes.
        f.create_dataset("single_chunk", data=ramp((4, 4), np.float32, 1.0), chunks=(4, 4),
                         compression="gzip")
        f.create_dataset("fixed_array", data=ramp((10, 10), np.float32, 1.0), chunks=(4, 4))
        # Many links make HDF5 switch the group to dense storage (a fractal heap).
        dense = f.create_group("dense")
        for i in range(20):
            dense.create_group("g%02d" % i)


def write_userblock():
    # A 512-byte user block before the superblock: all addresses are relative to it.
    with h5py.File(path("userblock.h5"), "w", userblock_size=512) as f:
        f.create_dataset("x", data=ramp((5,), np.float32, 1.0, 1.0))
        f.attrs["note"] = "user block"


if __name__ == "__main__":
    write_features()
    write_latest()
    write_userblock()
