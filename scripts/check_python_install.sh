#!/usr/bin/env bash
# Checks the README's Python install as a user runs it, offline: a venv made from Debian's
# python3 (with --system-site-packages, for Debian's numpy), `pip install --no-build-isolation
# ./python`, then kerasrt imported from outside the checkout runs the seed model with Keras's
# numbers; and a wheel built the same way holds the native module.
#
#   scripts/check_python_install.sh [BUILD_DIR]
#
# With BUILD_DIR (a CMake build folder of this checkout), setup.py reuses its compiled library
# instead of compiling kerasrt once more (KERASRT_BUILD_DIR); without it, pip compiles it all.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ $# -ge 1 ] && export KERASRT_BUILD_DIR=$(readlink -f "$1")
export CMAKE_BUILD_PARALLEL_LEVEL=${JOBS:-2}

/usr/bin/python3 -m venv --system-site-packages "$work/venv"
# --no-index: nothing may come from a Python index; numpy is Debian's.
"$work/venv/bin/python" -m pip install -q --no-index --no-build-isolation ./python
"$work/venv/bin/python" -m pip wheel -q --no-index --no-build-isolation --no-deps -w "$work/wheels" ./python

cd "$work"  # away from the checkout, so only the installed package can be imported
seed=$root/tests/data/fixtures/seed/seed_small_functional
"$work/venv/bin/python" - "$seed" "$work/wheels" <<'PY'
import glob, sys, zipfile
import numpy as np
import kerasrt

seed, wheels = sys.argv[1], sys.argv[2]
assert kerasrt.__file__.startswith(sys.prefix), f"imported {kerasrt.__file__}, not the venv's install"
y = kerasrt.load(f"{seed}/model.keras").predict(np.load(f"{seed}/input_0.npy"))
diff = float(np.abs(y - np.load(f"{seed}/output_0.npy")).max())
assert diff < 1e-4, f"installed kerasrt differs from Keras by {diff}"
found = glob.glob(f"{wheels}/kerasrt-*.whl")
assert len(found) == 1, f"expected one kerasrt wheel in {wheels}, found {found}"
names = zipfile.ZipFile(found[0]).namelist()
assert any(n.startswith("kerasrt/_kerasrt") and n.endswith(".so") for n in names), names
print(f"installed kerasrt {kerasrt.__version__} matches Keras on the seed model (max diff {diff:.2e}); "
      f"wheel {found[0].rsplit('/', 1)[1]} built")
PY
