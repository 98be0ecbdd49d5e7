"""PyTorch networks exported to ONNX (`tools/export-torch-models`), with
seeded random weights.

The repository keeps each exported graph without its weights (they were
external data). `torch_model(name)` fills every external tensor with seeded
random values drawn as PyTorch initialises a layer (uniform in
+-1/sqrt(fan_in)) and returns the complete model, so tests run the real
exported architectures without torch installed.
"""

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

MODELS = Path(__file__).resolve().parents[2] / "test" / "models" / "torch"
NAMES = ("ds_cnn", "mlp", "mobilenet_v2_035", "mobilenet_v3_small", "resnet8")


def torch_model(name: str, seed: int = 0) -> bytes:
    model = onnx.load(str(MODELS / f"{name}.onnx"), load_external_data=False)
    rng = np.random.default_rng(seed)
    fan_in = {}  # a bias takes its weights' fan-in
    for tensor in model.graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL and len(tensor.dims) >= 2:
            fan_in[tensor.dims[0]] = int(np.prod(tensor.dims[1:]))
    for tensor in model.graph.initializer:
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        dims = tuple(tensor.dims)
        fan = int(np.prod(dims[1:])) if len(dims) >= 2 else fan_in.get(dims[0], dims[0])
        bound = 1 / np.sqrt(fan)
        values = rng.uniform(-bound, bound, dims).astype(np.float32)
        tensor.CopyFrom(numpy_helper.from_array(values, tensor.name))
    onnx.checker.check_model(model)
    return model.SerializeToString()


def input_shape(name: str) -> list[int]:
    model = onnx.load(str(MODELS / f"{name}.onnx"), load_external_data=False)
    return [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
