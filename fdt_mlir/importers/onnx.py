"""ONNX -> linalg on tensors, through IREE's ONNX importer.

IREE's Python package and `mlir` cannot share a process (same sonames), and
their MLIR is LLVM 24, so the tools run as subprocesses and hand back text in
generic op form, the one syntax that MLIR 22 reads reliably:

    <tool>-import-onnx model.onnx             -> torch dialect (onnx.* operators)
    <tool>-opt torch-onnx-to-torch-backend-pipeline,
               torch-backend-to-linalg-on-tensors-backend-pipeline
                                               -> linalg/tensor/arith/math, NCHW

The ONNX file is checked here first (with the `onnx` package) so that bad
input gets a message about the input rather than a tool's stack trace.

Kernels are named as TFLite's are, `OpType:index` with the node's index in
the graph: each operator of the torch IR gets that name as its location
(with the node's own name, when it has one, as the location's child), the
lowering keeps it on every op it makes, and `--mlir-print-debuginfo` hands
it back.

QDQ models are first rewritten into integer ONNX operators (`onnx_qdq`), so
that their activations are int8 tensors and their kernels integer ones.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from mlir import ir

from ..errors import FdtError
from .onnx_qdq import rewrite_qdq

PIPELINE = "builtin.module(torch-onnx-to-torch-backend-pipeline,torch-backend-to-linalg-on-tensors-backend-pipeline)"
ALLOWED_DIALECTS = {"func", "linalg", "tensor", "arith", "math"}  # inside the function
IMPORTER, OPT = "iree-import-onnx", "iree-opt"
PACKAGE = "iree-base-compiler (pip install 'fdt-mlir[onnx]')"  # the tools' package, named in errors


def import_onnx(path: str, name: str) -> ir.Module:
    """Reads the ONNX model at `path`; returns a linalg module with one func `name`.

    Must be called inside an active context from `fdt_mlir.dialect.make_context()`.
    """
    model = _check_onnx(path)
    rewritten = rewrite_qdq(model)
    with tempfile.TemporaryDirectory(prefix="fdt-onnx-") as tmp:
        if rewritten is None:
            source, nodes, origins = str(Path(path).resolve()), model.graph.node, range(len(model.graph.node))
        else:  # absolute paths: a name starting with '-' is no option
            source = str(Path(tmp, "integer.onnx"))
            Path(source).write_bytes(rewritten.model.SerializeToString())
            nodes, origins = rewritten.model.graph.node, rewritten.origins
        torch_ir = _run([_tool(IMPORTER), source, "-o", "-"], None, "importing the ONNX model")
    torch_ir = _name_nodes(torch_ir, model.graph, nodes, origins)
    linalg_ir = _run(
        [_tool(OPT), f"--pass-pipeline={PIPELINE}", "--mlir-print-op-generic", "--mlir-print-debuginfo", "-"],
        torch_ir,
        "lowering the ONNX model to linalg",
    )
    try:
        module = ir.Module.parse(linalg_ir)
    except ir.MLIRError as e:
        raise FdtError(f"internal error: MLIR 22 cannot parse the lowered model: {_one_line(str(e))}") from None
    _clean(module, name)
    return module


# -- checks on the ONNX file ---------------------------------------------------


def _check_onnx(path):
    """Rejects what the tools would choke on, with a message about the input."""
    try:  # only needed here; keeps `import fdt_mlir` free of protobuf
        import onnx
        from google.protobuf.message import DecodeError
    except ImportError:
        raise FdtError("importing ONNX needs the 'onnx' package: pip install onnx") from None

    p = Path(path)
    if not p.exists():
        raise FdtError(f"ONNX model '{path}' not found")
    if not p.is_file():
        raise FdtError(f"ONNX model '{path}' is not a file")
    if p.stat().st_size == 0:
        raise FdtError(f"'{path}' is empty, not an ONNX model")
    try:
        model = onnx.load(str(p), load_external_data=False)
        onnx.checker.check_model(str(p))
    except DecodeError:
        raise FdtError(
            f"'{path}' is not an ONNX model, or it is corrupt or truncated (protobuf does not parse)"
        ) from None
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as e:
        raise FdtError(f"'{path}' is not a valid ONNX model: {_one_line(str(e))}") from None
    except OSError as e:
        raise FdtError(f"cannot read ONNX model '{path}': {e.strerror or e}") from None

    initializers = {t.name for t in model.graph.initializer}
    for value in model.graph.input:
        if value.name in initializers:
            continue
        if not value.type.HasField("tensor_type"):
            raise FdtError(f"input '{value.name}' is not a tensor; only tensor inputs are supported")
        ttype = value.type.tensor_type
        if not ttype.HasField("shape"):
            raise FdtError(f"input '{value.name}' has no shape; only static shapes are supported")
        dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in ttype.shape.dim]
        if any(not isinstance(d, int) or d <= 0 for d in dims):
            shape = "[" + ",".join(str(d) for d in dims) + "]"
            raise FdtError(
                f"input '{value.name}' has dynamic shape {shape}; only static shapes are supported "
                "(export the model with fixed dimensions)"
            )
    return model


def _name_nodes(torch_ir: str, graph, nodes, origins) -> str:
    """The torch IR with each ONNX operator located at `loc("OpType:index")`
    of the node of `graph` it implements (`origins`, one per node of `nodes`,
    the graph the importer read), or at its producer's location when that
    node is the producer's fused activation (`_fused_activations`), or at
    its reader's when it is a pad the reader folds (`_fused_pads`).

    The importer emits the nodes in order, one `torch.operator` line each,
    after the initializers (`onnx.Constant` lines, as are Constant nodes,
    which make no kernel and stay unnamed)."""
    nodes, origins = list(nodes), list(origins)
    fused = {**_fused_activations(graph), **_fused_pads(nodes, origins, {v.name for v in graph.output})}
    lines, j = [], 0
    for line in torch_ir.splitlines():
        m = re.search(r'torch\.operator "onnx\.(\w+)"', line)
        if m and m.group(1) != "Constant" and not line.rstrip().endswith("{"):
            while j < len(nodes) and nodes[j].op_type != m.group(1):
                j += 1
            if j < len(nodes):
                k = fused.get(origins[j], origins[j])
                node = graph.node[k]
                child = f"({_quoted(node.name)})" if node.name else ""
                line = f'{line.rstrip()} loc("{node.op_type}:{k}"{child})'
                j += 1
        lines.append(line)
    return "\n".join(lines) + "\n"


# Operators whose output may carry a fused activation, and the activations.
FUSES_ACTIVATION = {"Conv", "ConvTranspose", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "BatchNormalization"}
ACTIVATIONS = {"Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu"}


# Operators that read a padded input in place (fdt-fold-pad).
READS_PADDED = {"Conv", "ConvInteger", "MaxPool", "AveragePool"}


def _fused_pads(nodes, origins, outputs) -> dict:
    """{Pad node: its reader} (indices in the original graph) for each Pad
    whose output only a conv or pool reads: one kernel, as onnxruntime
    fuses a Pad into its Conv, so the conv reads the unpadded input in
    place and the padded copy needs no buffer."""
    readers = {}
    for j, node in enumerate(nodes):
        for name in node.input:
            readers.setdefault(name, []).append(j)
    fused = {}
    for j, node in enumerate(nodes):
        reader = readers.get(node.output[0], []) if node.op_type == "Pad" else []
        if len(reader) == 1 and nodes[reader[0]].op_type in READS_PADDED and node.output[0] not in outputs:
            fused[origins[j]] = origins[reader[0]]
    return fused


def _fused_activations(graph) -> dict:
    """{activation node: its producer node} (indices in the graph) for each
    activation that is the only reader of a conv, dense or elementwise
    node's output: one kernel, as TFLite's fused activations and
    onnxruntime's fused convolutions are, so the pre-activation tensor never
    needs a buffer of its own."""
    producer = {out: i for i, node in enumerate(graph.node) for out in node.output}
    readers = {}
    for node in graph.node:
        for name in node.input:
            readers[name] = readers.get(name, 0) + 1
    outputs = {v.name for v in graph.output}
    fused = {}
    for i, node in enumerate(graph.node):
        source = node.input[0] if node.input else None
        p = producer.get(source)
        if (
            node.op_type in ACTIVATIONS
            and p is not None
            and graph.node[p].op_type in FUSES_ACTIVATION
            and readers[source] == 1
            and source not in outputs
        ):
            fused[i] = p
    return fused


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- running the tools ---------------------------------------------------------


def _tool(exe: str) -> str:
    """The tool from this Python environment first (its version is pinned), then PATH."""
    beside = Path(sys.executable).parent / exe  # not resolved: a venv's bin holds a symlink
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(exe)
    if found:
        return found
    raise FdtError(f"'{exe}' not found: install {PACKAGE} into this Python environment")


def _run(cmd, stdin_text, what) -> str:
    # No timeout: a wall-clock limit would make the result depend on the machine.
    try:
        proc = subprocess.run(cmd, input=stdin_text, capture_output=True, text=True)
    except OSError as e:
        raise FdtError(f"{what}: cannot run '{cmd[0]}': {e.strerror or e}") from None
    if proc.returncode != 0:
        raise FdtError(_diagnose(proc.stderr, stdin_text, what))
    return proc.stdout


def _diagnose(stderr: str, source: str | None, what: str) -> str:
    """One line out of a tool's stderr: the first MLIR error, else a traceback's last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        m = re.match(r"(?:(.*?):(\d+)(?::\d+)?: )?error: (.*)", line)
        if not m:
            continue
        message = m.group(3)
        named = re.match(r'loc\("(\w+):\d+"(?:\(.*?\))?\): (.*)', message)
        if named:  # an operator _name_nodes located
            op, message = named.groups()
        else:
            op = _onnx_op_at(source, m.group(2)) if m.group(1) == "<stdin>" else None
        if op is None:
            return f"{what} failed: {_one_line(message)}"
        if message.startswith("failed to legalize"):
            return f"unsupported ONNX operator {op} (no lowering to linalg)"
        return f"unsupported ONNX operator {op}: {_one_line(message)}"
    if lines:  # a Python tool's traceback ends with "package.module.ErrorType: message"
        last = re.sub(r"^[\w.]+\.(\w+: )", r"\1", lines[-1])
        return f"{what} failed: {_one_line(last)}"
    return f"{what} failed with no diagnostic"


def _onnx_op_at(source, line_no):
    """The ONNX operator named on `line_no` of the torch IR fed to the tool, if any."""
    if not source or not line_no:
        return None
    lines = source.splitlines()
    index = int(line_no) - 1
    if not 0 <= index < len(lines):
        return None
    m = re.search(r'torch\.operator "onnx\.(\w+)"', lines[index])
    return m.group(1) if m else None


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


# -- clean-up of the lowered module --------------------------------------------


def _clean(module: ir.Module, name: str):
    """Keeps one func named `name`, no foreign attributes, only the dialects the flow takes."""
    for attr in list(module.operation.attributes):
        del module.operation.attributes[attr]
    funcs = [op for op in module.body.operations if op.operation.name == "func.func"]
    others = [op.operation.name for op in module.body.operations if op.operation.name != "func.func"]
    if len(funcs) != 1 or others:
        raise FdtError(
            f"the lowered model has {len(funcs)} functions and {len(others)} other top-level "
            f"ops ({', '.join(sorted(set(others))) or 'none'}); expected exactly one function"
        )
    fn = funcs[0].operation
    for attr in list(fn.attributes):
        if attr not in ("sym_name", "function_type"):
            del fn.attributes[attr]
    fn.attributes["sym_name"] = ir.StringAttr.get(name)

    ftype = ir.FunctionType(fn.attributes["function_type"].value)
    for kind, types in (("argument", ftype.inputs), ("result", ftype.results)):
        for i, t in enumerate(types):
            if not isinstance(t, ir.RankedTensorType) or not t.has_static_shape:
                raise FdtError(f"function {kind} {i} has type {t}; only static ranked tensors are supported")

    problems = []  # exceptions must not cross the C++ walk; collect and stop instead

    def check(op):
        if op.name.split(".", 1)[0] not in ALLOWED_DIALECTS:
            problems.append(f"the lowered model contains '{op.name}', which the fdt flow does not support")
        for r in op.results:
            if isinstance(r.type, ir.ShapedType) and not r.type.has_static_shape:
                problems.append(f"the lowered model has a dynamic shape {r.type} at '{op.name}'")
        return ir.WalkResult.INTERRUPT if problems else ir.WalkResult.ADVANCE

    fn.walk(check)
    if problems:
        raise FdtError(problems[0])
    if not module.operation.verify():
        raise FdtError("internal error: the linalg module lowered from ONNX does not verify")
