import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # fixtures.py, whatever the import mode

try:
    import kerasrt  # noqa: F401
except ImportError as e:
    raise ImportError(f"{e}: the Python tests need the built package: build with -DKERASRT_BUILD_PYTHON=ON and "
                      "run them with PYTHONPATH=<build>/python (as scripts/test.sh does), or pip install ./python") from e
