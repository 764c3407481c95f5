"""The progress line predict(verbose=1) prints, in the spirit of Keras's Progbar."""
import sys
import time


class Progress:
    """Prints ``step/total [=====>....] - 1s 12ms/step``; on a terminal it redraws the line at
    most every 50 ms, elsewhere (logs, notebooks' captured output) it prints the final line only."""

    WIDTH = 30

    def __init__(self, total, stream=None):
        self.total = total
        self.stream = stream if stream is not None else sys.stdout
        self.interactive = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.perf_counter()
        self.last_draw = 0.0

    def update(self, step):
        now = time.perf_counter()
        final = step >= self.total
        if not final and (not self.interactive or now - self.last_draw < 0.05):
            return
        self.last_draw = now
        done = self.WIDTH * step // self.total
        bar = "=" * done + (">" if done < self.WIDTH else "") + "." * max(self.WIDTH - done - 1, 0)
        elapsed = now - self.start
        line = f"{step}/{self.total} [{bar}] - {elapsed:.0f}s {1000 * elapsed / step:.0f}ms/step"
        self.stream.write(("\r" if self.interactive else "") + line + ("\n" if final else ""))
        self.stream.flush()
