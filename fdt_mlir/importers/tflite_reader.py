"""Reads a .tflite flatbuffer into a small, validated graph description.

TensorFlow is not needed: the `tflite` package's generated schema classes read
the flatbuffer. Everything the rest of the importer relies on (shapes static,
buffers complete, operators known) is checked here, so that corrupt files fail
with one line naming the problem instead of a crash deep in a builder.
"""

from dataclasses import dataclass

import numpy as np
import tflite
from tflite.BuiltinOperator import BuiltinOperator
from tflite.TensorType import TensorType

from ..errors import FdtError

OPERATOR_NAMES = {v: k for k, v in vars(BuiltinOperator).items() if not k.startswith("_")}

DTYPES = {
    TensorType.FLOAT32: np.float32,
    TensorType.INT8: np.int8,
    TensorType.UINT8: np.uint8,
    TensorType.INT16: np.int16,
    TensorType.INT32: np.int32,
    TensorType.INT64: np.int64,
    TensorType.BOOL: np.bool_,
}


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple
    dtype: type
    scale: np.ndarray | None = None
    zero_point: np.ndarray | None = None
    quantized_dimension: int = 0
    data: np.ndarray | None = None  # constant tensors only

    @property
    def quantized(self) -> bool:
        return self.scale is not None and self.scale.size > 0 and self.dtype != np.float32


@dataclass
class Operator:
    index: int
    opcode: str
    inputs: list  # tensor indices, -1 for an omitted optional input
    outputs: list
    options: object = None  # the schema's options table, already initialised


@dataclass
class Graph:
    name: str
    tensors: list
    operators: list
    inputs: list
    outputs: list


def _options(op):
    """The builtin options table of `op`, initialised as its own schema class."""
    table = op.BuiltinOptions()
    kind = op.BuiltinOptionsType()
    if table is None or kind == 0:
        return None
    from tflite.BuiltinOptions import BuiltinOptions

    names = {v: k for k, v in vars(BuiltinOptions).items() if not k.startswith("_")}
    cls = getattr(tflite, names[kind], None)
    if cls is None:
        return None
    obj = cls()
    obj.Init(table.Bytes, table.Pos)
    return obj


def read_tflite(path: str, name: str) -> Graph:
    try:
        with open(path, "rb") as f:
            buf = f.read()
    except OSError as e:
        raise FdtError(f"cannot read '{path}': {e.strerror}") from None
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise FdtError(f"'{path}' is not a TFLite flatbuffer (no TFL3 identifier)")
    try:
        return _read(buf, name)
    except FdtError:
        raise
    except Exception as e:  # the flatbuffer runtime raises bare errors on bad offsets
        raise FdtError(f"'{path}' is corrupt or truncated ({type(e).__name__} while reading the flatbuffer)") from None


def _read(buf: bytes, name: str) -> Graph:
    model = tflite.Model.GetRootAsModel(buf, 0)
    if model.SubgraphsLength() != 1:
        raise FdtError(f"models with {model.SubgraphsLength()} subgraphs are not supported (need exactly 1)")
    sg = model.Subgraphs(0)
    tensors = []
    for i in range(sg.TensorsLength()):
        t = sg.Tensors(i)
        tname = t.Name().decode("utf-8", "replace") if t.Name() else f"t{i}"
        if t.Type() not in DTYPES:
            raise FdtError(f"tensor '{tname}' has unsupported type {t.Type()}")
        shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
        # The converter marks the batch dimension dynamic in shape_signature;
        # like TFLM we take the batch of `shape`. Any other unknown dimension
        # would need a run-time shape, which a static arena cannot have.
        signature = tuple(int(d) for d in t.ShapeSignatureAsNumpy()) if t.ShapeSignatureLength() else shape
        if any(d < 0 for d in shape) or any(d < 0 for d in signature[1:]):
            shown = [d if d >= 0 else "?" for d in (signature if len(signature) == len(shape) else shape)]
            raise FdtError(f"tensor '{tname}' has a dynamic shape {shown}: only static shapes are supported")
        dtype = DTYPES[t.Type()]
        q = t.Quantization()
        scale = zp = None
        qdim = 0
        if q is not None and q.ScaleLength() > 0:
            scale = q.ScaleAsNumpy().astype(np.float32)
            zp = q.ZeroPointAsNumpy().astype(np.int64) if q.ZeroPointLength() else np.zeros(scale.shape, np.int64)
            qdim = q.QuantizedDimension()
        data = None
        b = model.Buffers(t.Buffer()) if t.Buffer() < model.BuffersLength() else None
        if b is not None and b.DataLength() > 0:
            raw = b.DataAsNumpy().tobytes()
            count = int(np.prod(shape)) if shape else 1
            need = count * np.dtype(dtype).itemsize
            if len(raw) != need:
                raise FdtError(f"constant tensor '{tname}' has {len(raw)} bytes of data, its shape needs {need}")
            data = np.frombuffer(raw, dtype=dtype).reshape(shape)
        tensors.append(Tensor(i, tname, shape, dtype, scale, zp, qdim, data))
    operators = []
    for i in range(sg.OperatorsLength()):
        op = sg.Operators(i)
        if op.OpcodeIndex() >= model.OperatorCodesLength():
            raise FdtError(f"operator {i} refers to a missing operator code")
        oc = model.OperatorCodes(op.OpcodeIndex())
        code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
        opname = OPERATOR_NAMES.get(code, f"builtin#{code}")
        if code == BuiltinOperator.CUSTOM:
            opname = "CUSTOM:" + (oc.CustomCode() or b"?").decode("utf-8", "replace")
        ins = [int(x) for x in op.InputsAsNumpy()] if op.InputsLength() else []
        outs = [int(x) for x in op.OutputsAsNumpy()] if op.OutputsLength() else []
        for t in ins + outs:
            if t >= len(tensors):
                raise FdtError(f"operator {i} ({opname}) refers to tensor {t}, which does not exist")
        operators.append(Operator(i, opname, ins, outs, _options(op)))
    inputs = [int(x) for x in sg.InputsAsNumpy()]
    outputs = [int(x) for x in sg.OutputsAsNumpy()]
    for t in inputs + outputs:
        if not 0 <= t < len(tensors):
            raise FdtError(f"the subgraph names tensor {t} as input or output, which does not exist")
    return Graph(name, tensors, operators, inputs, outputs)
