"""TFLite Micro as the independent reference for outputs and memory.

Generated code is checked against what TFLM computes for the same .tflite
file, and its arena against the bytes TFLM plans for activations (the arena
"head", `evaluation.tflm_head`), so neither check depends on code of this
project.
"""

import numpy as np
from tflite_micro.python.tflite_micro import runtime

from ..evaluation.tflm_head import ARENA_SIZE, model_bytes, subgraph
from ..examples.tflite_builder import TENSOR_TYPES

_DTYPES = {code: dtype for dtype, code in TENSOR_TYPES.items()}


def run_tflm(model, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Runs `model` (a path or the flatbuffer's bytes) once on `inputs`, one
    array per model input, and returns its outputs."""
    return run_tflm_invokes(model, [inputs])[0]


def run_tflm_invokes(model, input_sets: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
    """Invokes one interpreter of `model` on each input set in turn, so that
    its variable tensors (recurrent state) carry over, and returns the
    outputs of each invoke."""
    data = model_bytes(model)
    graph = subgraph(data)
    interpreter = runtime.Interpreter.from_bytes(data, arena_size=ARENA_SIZE)
    results = []
    for inputs in input_sets:
        if len(inputs) != graph.InputsLength():
            raise ValueError(f"the model has {graph.InputsLength()} inputs, got {len(inputs)} arrays")
        for i, array in enumerate(inputs):
            interpreter.set_input(array, i)
        interpreter.invoke()
        results.append([np.array(interpreter.get_output(i)) for i in range(graph.OutputsLength())])
    return results


def random_inputs(model, count: int, seed: int) -> list[list[np.ndarray]]:
    """`count` deterministic sets of random inputs for `model` (a path or
    bytes): the full range of 8- and 16-bit integer types (quantized inputs),
    [-1, 1) for float32, [0, 100) for int32 (indices, token ids), and
    booleans."""
    graph = subgraph(model_bytes(model))
    tensors = [graph.Tensors(i) for i in graph.InputsAsNumpy()]
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
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    raise ValueError(f"no random inputs for {dtype} tensors")
