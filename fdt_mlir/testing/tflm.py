"""TFLite Micro as the independent reference for outputs and memory.

Generated code is checked against what TFLM computes for the same .tflite
file, and its arena against the bytes TFLM plans for activations (the arena
"head"), so neither check depends on code of this project.
"""

import os
import re
import subprocess
import sys

import numpy as np
import tflite
from tflite_micro.python.tflite_micro import runtime

from .tflite_builder import TENSOR_TYPES

# Generous: the interpreter only needs an arena at least as large as the
# model's, and the planned sizes do not depend on it.
ARENA_SIZE = 16 * 1024 * 1024

_DTYPES = {code: dtype for dtype, code in TENSOR_TYPES.items()}

# TFLM prints its allocation report from C++ (to stderr in the versions
# tried), where Python-level redirection does not reach and fd-level
# redirection would fight pytest's own capture: a child process keeps it apart.
_HEAD_SCRIPT = """
import sys
import numpy as np
from tflite_micro.python.tflite_micro import runtime

interpreter = runtime.Interpreter.from_bytes(sys.stdin.buffer.read(), arena_size=int(sys.argv[1]))
for i in range(int(sys.argv[2])):
    details = interpreter.get_input_details(i)
    interpreter.set_input(np.zeros(details["shape"], details["dtype"]), i)
interpreter.invoke()
interpreter.print_allocations()
"""


def run_tflm(model, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Runs `model` (a path or the flatbuffer's bytes) once on `inputs`, one
    array per model input, and returns its outputs."""
    data = _model_bytes(model)
    subgraph = _subgraph(data)
    if len(inputs) != subgraph.InputsLength():
        raise ValueError(f"the model has {subgraph.InputsLength()} inputs, got {len(inputs)} arrays")
    interpreter = runtime.Interpreter.from_bytes(data, arena_size=ARENA_SIZE)
    for i, array in enumerate(inputs):
        interpreter.set_input(array, i)
    interpreter.invoke()
    return [np.array(interpreter.get_output(i)) for i in range(subgraph.OutputsLength())]


def tflm_head_bytes(model) -> int:
    """TFLM's "Arena allocation head" of `model` (a path or bytes): the bytes
    its memory planner reserves for activations, after one invoke on zeros."""
    data = _model_bytes(model)
    inputs = _subgraph(data).InputsLength()
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


def random_inputs(model, count: int, seed: int) -> list[list[np.ndarray]]:
    """`count` deterministic sets of random inputs for `model` (a path or
    bytes): the full range of 8- and 16-bit integer types (quantized inputs),
    [-1, 1) for float32 and [0, 100) for int32 (indices, token ids)."""
    subgraph = _subgraph(_model_bytes(model))
    tensors = [subgraph.Tensors(i) for i in subgraph.InputsAsNumpy()]
    specs = [(tuple(t.ShapeAsNumpy()) if t.ShapeLength() else (), _DTYPES[t.Type()]) for t in tensors]
    rng = np.random.default_rng(seed)
    return [[_random(rng, shape, dtype) for shape, dtype in specs] for _ in range(count)]


def _random(rng, shape, dtype) -> np.ndarray:
    if dtype == np.float32:
        return rng.uniform(-1.0, 1.0, shape).astype(np.float32)
    if dtype == np.int32:
        return rng.integers(0, 100, shape, dtype=np.int32)
    if dtype in (np.int8, np.uint8, np.int16):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    raise ValueError(f"no random inputs for {dtype} tensors")


def _model_bytes(model) -> bytes:
    if isinstance(model, (bytes, bytearray)):
        return bytes(model)
    with open(os.fspath(model), "rb") as f:
        return f.read()


def _subgraph(data: bytes):
    return tflite.Model.GetRootAs(data, 0).Subgraphs(0)
