"""What fdt-eval asks TFLite Micro: its planned activation memory, the arena
"head", that each arena is stated against, and its run time on this machine,
that the generated C's is stated against.

TFLite Micro (the `tflite-micro` package, in the `test` extra) is imported
only in a child process: it prints its allocation report from C++, where
Python-level redirection does not reach and fd-level redirection would
fight pytest's own capture.
"""

import importlib.util
import os
import re
import statistics
import subprocess
import sys

import tflite

from ..errors import FdtError

# Generous: the interpreter only needs an arena at least as large as the
# model's, and the planned sizes do not depend on it.
ARENA_SIZE = 16 * 1024 * 1024

# Both child scripts: the interpreter (arena size argv[1]) on the model from
# stdin, its argv[2] inputs zero, one invoke (arena planning, caches).
_SETUP = """
import sys, time
import numpy as np
from tflite_micro.python.tflite_micro import runtime

interpreter = runtime.Interpreter.from_bytes(sys.stdin.buffer.read(), arena_size=int(sys.argv[1]))
for i in range(int(sys.argv[2])):
    details = interpreter.get_input_details(i)
    interpreter.set_input(np.zeros(details["shape"], details["dtype"]), i)
interpreter.invoke()
"""

_HEAD_SCRIPT = _SETUP + "interpreter.print_allocations()\n"

# argv[3] times the mean of as many invokes as take argv[4] seconds.
_TIME_SCRIPT = (
    _SETUP
    + """
for _ in range(int(sys.argv[3])):
    n, start = 0, time.perf_counter()
    while True:
        interpreter.invoke()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= float(sys.argv[4]):
            break
    print(elapsed / n)
"""
)


def require_tflm():
    """Says in one line, before any work, that TFLite Micro is missing."""
    if importlib.util.find_spec("tflite_micro") is None:
        raise FdtError("TFLM's arena head needs TFLite Micro: pip install 'fdt-mlir[eval]'")


def tflm_head_bytes(model) -> int:
    """TFLM's "Arena allocation head" of `model` (a path or bytes): the bytes
    its memory planner reserves for activations, after one invoke on zeros."""
    require_tflm()
    data = model_bytes(model)
    inputs = subgraph(data).InputsLength()
    result = subprocess.run(
        [sys.executable, "-c", _HEAD_SCRIPT, str(ARENA_SIZE), str(inputs)],
        input=data,
        capture_output=True,
        check=False,
    )
    report = (result.stdout + result.stderr).decode("utf-8", "replace")
    match = re.search(r"Arena allocation head (\d+) bytes", report)
    if result.returncode != 0 or match is None:
        raise RuntimeError(f"TFLM did not report its arena head (exit code {result.returncode}):\n{report}")
    return int(match.group(1))


def model_bytes(model) -> bytes:
    """The flatbuffer of `model`, a path or the bytes themselves."""
    if isinstance(model, (bytes, bytearray)):
        return bytes(model)
    with open(os.fspath(model), "rb") as f:
        return f.read()


def subgraph(data: bytes):
    """The main subgraph of a .tflite flatbuffer."""
    return tflite.Model.GetRootAs(data, 0).Subgraphs(0)


def tflm_invoke_seconds(model, samples: int = 15, least: float = 0.02) -> float:
    """Median over `samples` of the mean time of one TFLM invoke of `model`
    (its reference kernels, as the tflite-micro package builds them), inputs
    zero. Each invoke is one call through the package's Python binding, which
    adds about a microsecond."""
    require_tflm()
    data = model_bytes(model)
    inputs = subgraph(data).InputsLength()
    result = subprocess.run(
        [sys.executable, "-c", _TIME_SCRIPT, str(ARENA_SIZE), str(inputs), str(samples), str(least)],
        input=data,
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"TFLM did not run (exit code {result.returncode}): {result.stderr.decode()[-500:]}")
    return statistics.median(float(line) for line in result.stdout.decode().split())
