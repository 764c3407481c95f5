#!/usr/bin/python3
"""Writes the small zip and npy files used by tests/io/*_test.cpp.

Run with a Python that has numpy (e.g. /usr/bin/python3 tests/data/io/make_test_files.py).
The output is deterministic; the tests compute their expected values from the same formulas
written below, never from our own readers.
"""
import io
import os
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATE = (1980, 1, 1, 0, 0, 0)

# Member contents shared with zip_reader_test.cpp.
CONFIG = b'{"class_name": "Sequential", "config": {"name": "seq", "layers": []}}'
# 100000 bytes: bytes(i * 7 % 251) (compresses well but is not trivial).
DATA = bytes((i * 7) % 251 for i in range(100000))


def info(name, method):
    zi = zipfile.ZipInfo(name, date_time=DATE)
    zi.compress_type = method
    zi.external_attr = 0o644 << 16
    return zi


def write_zip(path, members, force_zip64=False):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data, method in members:
            if force_zip64:
                with zf.open(info(name, method), "w", force_zip64=True) as f:
                    f.write(data)
            else:
                zf.writestr(info(name, method), data)


def main():
    d = HERE
    members = [
        ("config.json", CONFIG, zipfile.ZIP_DEFLATED),
        ("data.bin", DATA, zipfile.ZIP_DEFLATED),
        ("empty.txt", b"", zipfile.ZIP_DEFLATED),
        ("stored.txt", b"stored member", zipfile.ZIP_STORED),
    ]
    write_zip(f"{d}/deflated.zip", members)
    # zip64 extra fields in the local headers only (what force_zip64 does for small files).
    write_zip(f"{d}/zip64_local.zip", members, force_zip64=True)
    # Full ZIP64: lowering zipfile's limits makes it write saturated 32-bit fields with zip64
    # extra fields in the central directory, plus the zip64 end record and locator, exactly
    # as it does for archives over 4 GiB.
    saved = zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT
    zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = -1, 0
    try:
        write_zip(f"{d}/zip64_full.zip", members, force_zip64=True)
    finally:
        zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = saved
    # A stored entry (as Keras writes model.weights.h5) followed by an archive comment.
    with zipfile.ZipFile(f"{d}/comment.zip", "w") as zf:
        zf.comment = b"a comment with a fake PK\x05\x06 signature inside"
        zf.writestr(info("stored.txt", zipfile.ZIP_STORED), b"stored member")
    # 1 MiB of zeros deflates to about 1 KiB; the tests patch its declared size to make a
    # zip bomb (an entry that inflates to far more than it claims).
    write_zip(f"{d}/zeros.zip", [("zeros.bin", bytes(1 << 20), zipfile.ZIP_DEFLATED)])
    # Two members with the same name (zipfile warns but writes it).
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_zip(f"{d}/duplicate.zip", [("a.txt", b"first", zipfile.ZIP_STORED),
                                         ("a.txt", b"second", zipfile.ZIP_STORED)])
    # Each archive must read back with Python's zipfile (comment.zip is checked with
    # `unzip -t`: Python's zipfile is itself fooled by the signature in the comment).
    for name in ["deflated.zip", "zip64_local.zip", "zip64_full.zip"]:
        with zipfile.ZipFile(f"{d}/{name}") as zf:
            assert zf.testzip() is None, name

    # A real Keras model with every member deflated (Keras stores them), for the per-load
    # inflation budget: same members, same bytes, only the compression differs.
    src = os.path.join(HERE, "..", "fixtures", "layers", "elu_layer", "model.keras")
    with zipfile.ZipFile(src) as zin:
        write_zip(f"{d}/deflated_model.keras",
                  [(zi.filename, zin.read(zi.filename), zipfile.ZIP_DEFLATED) for zi in zin.infolist()])

    # npy: value i of each array is a formula of its flat index i (see npy_test.cpp).
    n = np.arange(24)
    arrays = {
        "f4": ((n * 0.5 - 3.0).astype("<f4").reshape(2, 3, 4)),
        "f8": ((n / 3.0 - 1.0).astype("<f8").reshape(4, 6)),
        "i4": ((n * 1000 - 7000).astype("<i4").reshape(24)),
        "i8": ((n * 3000000000 - 5).astype("<i8").reshape(3, 8)),
        "u1": ((n * 11 % 256).astype("|u1").reshape(6, 4)),
        "b1": ((n % 3 == 0).reshape(2, 12)),
    }
    for name, a in arrays.items():
        np.save(f"{d}/{name}.npy", a)
    np.save(f"{d}/scalar_f8.npy", np.array(2.5, dtype="<f8"))
    np.save(f"{d}/empty_f4.npy", np.zeros((0, 3), dtype="<f4"))
    # A 12-digit first dimension shrinks numpy's header growth padding.
    np.save(f"{d}/wide_empty_f4.npy", np.zeros((123456789012, 0), dtype="<f4"))
    with open(f"{d}/v2_f4.npy", "wb") as f:
        np.lib.format.write_array(f, arrays["f4"], version=(2, 0))
    with open(f"{d}/v3_f4.npy", "wb") as f:
        np.lib.format.write_array(f, arrays["f4"], version=(3, 0))
    # Must be refused: Fortran order, big-endian, object arrays, unicode strings.
    np.save(f"{d}/fortran_f4.npy", np.asfortranarray(arrays["f4"]))
    np.save(f"{d}/bigendian_f4.npy", arrays["f4"].astype(">f4"))
    np.save(f"{d}/object.npy", np.array([1, "a", None], dtype=object), allow_pickle=True)
    np.save(f"{d}/unicode.npy", np.array(["ab", "cd"]))


if __name__ == "__main__":
    main()
