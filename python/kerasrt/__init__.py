"""kerasrt: run trained Keras models natively, without TensorFlow or Keras.

    import numpy as np, kerasrt
    model = kerasrt.load("model.keras")        # .keras, legacy .h5, TF.js model.json
    model.summary()
    y = model.predict(np.zeros((4, 8, 8, 3), np.float32))

Errors are ``kerasrt.Error`` (a ``ValueError``) with the engine's message and a ``.code``.
"""
import os as _os

try:
    from . import _kerasrt
except ImportError as _e:
    raise ImportError(f"kerasrt's native module is missing from {_os.path.dirname(__file__)} ({_e}); this is the "
                      "source folder python/kerasrt, not a built package: install with pip (see the README's Python "
                      "section) and run from another folder, or use PYTHONPATH=<build>/python") from _e
from ._model import CompiledModel, Model, TensorSpec

Error = _kerasrt.Error
__version__ = _kerasrt.version()
__all__ = ["load", "load_from_memory", "Model", "CompiledModel", "TensorSpec", "Error", "supported_layers"]


def load(path, weights=None):
    """Loads a Keras model file: `.keras`, legacy full-model `.h5`, or a TF.js `model.json`.

    With ``weights``, ``path`` is an architecture JSON (``model.to_json()``) and ``weights`` the
    ``.h5`` file ``save_weights`` wrote. The model compiles for the CPU on first use.
    """
    weights = None if weights is None else _os.fspath(weights)
    return Model(_kerasrt.load(_os.fspath(path), weights))


def load_from_memory(data, name="<memory>"):
    """Loads a `.keras` or legacy `.h5` model from bytes; ``name`` stands for the file in errors."""
    return Model(_kerasrt.load_from_memory(bytes(data), name))


def supported_layers():
    """The Keras layer classes kerasrt imports, as (class name, notes) pairs."""
    return _kerasrt.supported_layers()
