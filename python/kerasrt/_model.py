"""Model and CompiledModel: the Keras-like surface over the native module."""
import threading
from typing import NamedTuple, Optional, Tuple

import numpy as np

from . import _kerasrt
from ._progress import Progress


class TensorSpec(NamedTuple):
    """A model input or output, as Keras describes it: shape has None for dynamic dimensions."""

    name: str
    shape: Tuple[Optional[int], ...]
    dtype: str


def _specs(infos):
    return tuple(TensorSpec(*info) for info in infos)


def _error(message):
    return _kerasrt.Error(message)


def _input_list(x, specs):
    """The inputs in the model's order from an array, a list/tuple of arrays or a dict by name."""
    if type(x) is np.ndarray and len(specs) == 1:  # the common case, first: this runs on every call
        return [x]
    names = [s.name for s in specs]
    if isinstance(x, dict):
        unknown = [k for k in x if k not in names]
        missing = [n for n in names if n not in x]
        if unknown or missing:
            raise _error(f"inputs given by name must be exactly the model's inputs {names}; "
                         f"missing {missing}, unknown {unknown}")
        return [x[n] for n in names]
    if isinstance(x, (list, tuple)):
        # One-input models also take a nested list of numbers, as numpy.asarray reads it.
        if len(specs) == 1 and not all(hasattr(a, "__array__") for a in x):
            return [x]
        if len(x) != len(specs):
            raise _error(f"the model takes {len(specs)} input(s) {names}, got a {type(x).__name__} of {len(x)}")
        return list(x)
    if len(specs) != 1:
        raise _error(f"the model takes {len(specs)} inputs {names}: pass a list in that order or a dict by name, "
                     f"got one {type(x).__name__}")
    return [x]


def _num_samples(arrays, specs):
    counts = []
    for a, s in zip(arrays, specs):
        shape = np.shape(a)
        if len(shape) == 0:
            raise _error(f"input '{s.name}' is a scalar; the model expects shape {s.shape}")
        counts.append(shape[0])
    if len(set(counts)) != 1:
        detail = ", ".join(f"'{s.name}': {c}" for s, c in zip(specs, counts))
        raise _error(f"the inputs have different numbers of samples ({detail}); they must all have the same")
    return counts[0]


class CompiledModel:
    """A model compiled for one device; calling it runs the whole batch at once.

    Thread safe: several Python threads may call it at once, and they run in parallel (the GIL is
    released while the engine runs).
    """

    def __init__(self, core, device, threads, precision):
        self._core = core
        self.device, self.threads, self.precision = device, threads, precision
        self.inputs = _specs(core.inputs)
        self.outputs = _specs(core.outputs)
        self._run = core.run

    def __repr__(self):
        return f"<kerasrt.CompiledModel device={self.device!r} threads={self.threads} precision={self.precision!r}>"

    def __call__(self, x):
        """Runs one batch: x as predict takes it; returns an array, or a list for several outputs."""
        outputs = self._run(_input_list(x, self.inputs))
        return outputs[0] if len(outputs) == 1 else outputs

    predict_on_batch = __call__  # Keras's name for one batch without splitting

    def predict(self, x, batch_size=32, verbose=0):
        """Runs x in batches of batch_size and concatenates the outputs, as Keras's predict does.

        x: a numpy array (one-input models), a list of arrays in input order, or a dict by input
        name. C-contiguous float32 arrays are read in place; others are converted to float32.
        Returns an array, or a list of arrays in the model's output order.
        """
        if batch_size is None:
            batch_size = 32
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise _error(f"batch_size must be a positive integer, got {batch_size!r}")
        arrays = _input_list(x, self.inputs)
        n = _num_samples(arrays, self.inputs)
        steps = max(-(-n // batch_size), 1)
        progress = Progress(steps) if verbose else None
        if steps == 1:
            outputs = self._run(arrays)
            if progress:
                progress.update(1)
        else:
            arrays = [np.asarray(a) for a in arrays]  # once, not per batch, for nested lists
            parts = []
            for step in range(steps):
                start = step * batch_size
                parts.append(self._run([a[start:start + batch_size] for a in arrays]))
                if progress:
                    progress.update(step + 1)
            outputs = [np.concatenate(column, axis=0) for column in zip(*parts)]
        return outputs[0] if len(outputs) == 1 else outputs


class Model:
    """A loaded Keras model: inspect it, then predict (compiles for the CPU on first use)."""

    def __init__(self, core):
        self._core = core
        self._compiled = None
        self._lock = threading.Lock()
        self.name = core.name
        self.inputs = _specs(core.inputs)
        self.outputs = _specs(core.outputs)

    def __repr__(self):
        return f"<kerasrt.Model '{self.name}' inputs={list(self.inputs)} outputs={list(self.outputs)}>"

    @property
    def layers(self):
        """Top-level layers in summary order: (name, class name, output shapes, params) tuples."""
        return self._core.layers

    def count_params(self):
        """Keras's count_params(): every stored weight, trainable or not."""
        return self._core.param_count()

    def summary(self, print_fn=None):
        """Prints the table Keras's model.summary() prints (or passes it to print_fn)."""
        (print_fn or print)(self._core.summary().rstrip("\n"))

    def compile(self, device="cpu", threads=0, precision="fp32"):
        """Compiles for a device ("cpu", or "reference": the plain oracle kernels) with `threads`
        threads per run (0: one per core). Returns the compiled model, which this model's predict
        and __call__ also use from then on."""
        compiled = CompiledModel(self._core.compile(device, threads, precision), device, threads, precision)
        with self._lock:
            self._compiled = compiled
        return compiled

    def _default(self):
        compiled = self._compiled
        if compiled is None:
            with self._lock:
                if self._compiled is None:
                    self._compiled = CompiledModel(self._core.compile("cpu", 0, "fp32"), "cpu", 0, "fp32")
                compiled = self._compiled
        return compiled

    def __call__(self, x):
        """Runs one batch (see CompiledModel.__call__)."""
        return self._default()(x)

    def predict_on_batch(self, x):
        """Runs one batch without splitting it, as Keras's predict_on_batch."""
        return self._default()(x)

    def predict(self, x, batch_size=32, verbose=0):
        """Keras's predict: see CompiledModel.predict."""
        return self._default().predict(x, batch_size=batch_size, verbose=verbose)
