"""Builds the kerasrt extension with the project's own CMake build (no scikit-build needed).

The native module links the kerasrt library compiled from this repository (python/ must stay
inside it). By default the library is compiled into a private CMake folder under build/; set
KERASRT_BUILD_DIR to an existing CMake build folder of the project to reuse its compiled library
(the folder is reconfigured with KERASRT_BUILD_PYTHON=ON; its other options are left as they are).
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def project_version():
    text = (ROOT / "CMakeLists.txt").read_text()
    match = re.search(r"project\(kerasrt VERSION ([0-9.]+)", text)
    if not match:
        sys.exit(f"setup.py: no 'project(kerasrt VERSION x.y.z)' in {ROOT / 'CMakeLists.txt'}")
    return match.group(1)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        if not (ROOT / "include" / "kerasrt" / "kerasrt.h").exists():
            sys.exit(f"setup.py: {ROOT} is not the kerasrt source tree; build from python/ inside a checkout")
        reuse = os.environ.get("KERASRT_BUILD_DIR")
        build_dir = Path(reuse).resolve() if reuse else Path(self.build_temp).resolve() / "cmake"
        configure = ["cmake", "-S", str(ROOT), "-B", str(build_dir), "-DKERASRT_BUILD_PYTHON=ON",
                     # resolved: a venv's python is a link to the interpreter it was made from
                     f"-DPython_EXECUTABLE={os.path.realpath(sys.executable)}"]
        if not reuse:
            configure += ["-DCMAKE_BUILD_TYPE=Release", "-DKERASRT_BUILD_TESTS=OFF"]
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
        subprocess.run(configure, check=True)
        subprocess.run(["cmake", "--build", str(build_dir), "--target", "kerasrt_python", "-j", jobs], check=True)
        built = sorted((build_dir / "python" / "kerasrt").glob("_kerasrt*.so"))
        if len(built) != 1:
            sys.exit(f"setup.py: expected one _kerasrt*.so in {build_dir / 'python' / 'kerasrt'}, found {built}")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[0], target)


setup(version=project_version(), ext_modules=[Extension("kerasrt._kerasrt", sources=[])],
      cmdclass={"build_ext": CMakeBuild})
