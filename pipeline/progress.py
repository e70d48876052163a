"""A progress line per pipeline component, taken from TFX's own log records.

runner.py attaches `ComponentProgress` to the root logger. TFX's local runner
logs when each node starts and finishes, and its launcher logs whether it
reused a cached execution; this handler turns those records into one line per
component on the stream it is given, with the time the component took.
"""

import logging
import time
from typing import Optional, TextIO

_RUNNING = "Component %s is running."
_FINISHED = "Component %s is finished."
_CACHED = "A cached execution %d is used."
_NEW = "Going to run a new execution %d"


class ComponentProgress(logging.Handler):
    """Writes '[i/n] Component ... ran (2.1 s)' lines to `stream`."""

    def __init__(self, stream: TextIO, total: int):
        super().__init__(level=logging.INFO)
        self._stream = stream
        self._total = total
        self._index = 0
        self._node: Optional[str] = None
        self._started = 0.0
        self._state = ""

    def emit(self, record: logging.LogRecord) -> None:
        template = record.msg if isinstance(record.msg, str) else ""
        if template == _RUNNING:
            self._index += 1
            self._node = str(record.args[0])
            self._started = time.monotonic()
            self._state = "resolved"  # a resolver logs no execution
            self._stream.write(
                f"[{self._index:>2}/{self._total}] {self._node:<32} ")
            self._stream.flush()
        elif template.startswith(_CACHED):
            self._state = "cached"
        elif template.startswith(_NEW):
            self._state = "ran"
        elif template == _FINISHED and self._node is not None:
            took = time.monotonic() - self._started
            self._stream.write(f"{self._state:<9}{took:6.1f} s\n")
            self._stream.flush()
            self._node = None

    def interrupt(self) -> None:
        """Ends a half-written line when the component failed."""
        if self._node is not None:
            took = time.monotonic() - self._started
            self._stream.write(f"{'FAILED':<9}{took:6.1f} s\n")
            self._stream.flush()
            self._node = None
