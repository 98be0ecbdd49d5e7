"""Typed access to the `fdt` ops: the one module that spells their names and
attributes (`fdt.irdl.mlir` defines them).

- `fdt.path`: one path of a tiling plan, at module level (`tiling_plan.Path`).
- `fdt.arena`: the size, alignment, layout method and lower bound of a
  function's one static arena; the first op of a planned function.
- `fdt.buffer`: a buffer at a fixed byte offset of the arena, live over the
  steps [first, last], named for the report and the C API.
- `fdt.element_type`: the element type C sees for a model input or output
  (TOSA keeps tensors signless, so a uint8 input is i8 in the IR); the
  importer sets it on function arguments and results, fdt-plan-memory
  carries it onto the buffer.
- `fdt.state`: on a function argument and result, k for the value of
  recurrent state k at the start and at the end of an invoke (the
  importer's variable tensors; fdt-state-to-globals keeps it in a global).
- `fdt.state_start`: on a state argument, the value each of its (int8)
  elements starts at and `M_reset` restores when it is not 0: the zero
  point, as TFLM resets an int8 variable tensor.
- `fdt.overlap`: a unit attribute on the module: fdt-plan-memory may place
  a kernel's output over the part of an input it has consumed
  (analysis.safe_overlap); the api sets it for `Options(overlap=True)`.
- `fdt.reversible`: a unit attribute on an scf.for whose iterations are
  independent (fdt-tile-kernels' loops over a kernel's output elements,
  but the innermost): fdt-plan-memory may run it last iteration first,
  so that the kernel's output may sit above the input it consumes.
- `fdt.backward`: a unit attribute on the outer loop of a kernel that
  fdt-plan-memory turned around (it runs last iteration first): the
  report names the kernel.
"""

from dataclasses import dataclass

from mlir import ir

from ..tiling_plan import Path

PATH = "fdt.path"
ARENA = "fdt.arena"
BUFFER = "fdt.buffer"
ELEMENT_TYPE_ATTR = "fdt.element_type"
# On a model input or output: its quantization, real = scale * (q - zero_point).
SCALE_ATTR = "fdt.scale"
ZERO_POINT_ATTR = "fdt.zero_point"
MODEL_ATTR = "fdt.model"  # the TFLite subgraph's name, on the module
STATE_ATTR = "fdt.state"
OVERLAP_ATTR = "fdt.overlap"  # on the module: outputs may overlap consumed inputs
STATE_START_ATTR = "fdt.state_start"
REVERSIBLE_ATTR = "fdt.reversible"  # on an scf.for: may run last iteration first
BACKWARD_ATTR = "fdt.backward"  # on an scf.for: runs last iteration first


@dataclass(frozen=True)
class Arena:
    size: int
    alignment: int
    method: str  # "exact" when the size is proven smallest
    lower_bound: int


@dataclass(frozen=True)
class Buffer:
    name: str
    offset: int
    first: int
    last: int


def _i64(value: int) -> ir.IntegerAttr:
    return ir.IntegerAttr.get(ir.IntegerType.get_signless(64), value)


def _int(op: ir.Operation, name: str) -> int:
    return ir.IntegerAttr(op.attributes[name]).value


def _str(op: ir.Operation, name: str) -> str:
    return ir.StringAttr(op.attributes[name]).value


def add_paths(paths: list[Path], module_op: ir.Operation):
    """Appends one fdt.path op per path to the module body."""
    with ir.InsertionPoint(module_op.regions[0].blocks[0]), ir.Location.unknown():
        for p in paths:
            ir.Operation.create(
                PATH,
                attributes={
                    "family": ir.StringAttr.get(p.family),
                    "axis": ir.StringAttr.get(p.axis),
                    "parts": ir.DenseI64ArrayAttr.get(list(p.parts)),
                    "kernels": ir.ArrayAttr.get([ir.StringAttr.get(k) for k in p.kernels]),
                    "roles": ir.StringAttr.get(p.roles),
                },
            )


def paths_of(module_op: ir.Operation) -> list[tuple[Path, ir.Operation]]:
    """(path, its fdt.path op) of each path of the module's plan, in order."""
    found = []
    for op in module_op.regions[0].blocks[0].operations:
        op = op.operation
        if op.name == PATH:
            a = op.attributes
            path = Path(
                _str(op, "family"),
                _str(op, "axis"),
                tuple(ir.DenseI64ArrayAttr(a["parts"])),
                tuple(ir.StringAttr(k).value for k in ir.ArrayAttr(a["kernels"])),
                _str(op, "roles"),
            )
            found.append((path, op))
    return found


def create_arena(arena: Arena) -> ir.Operation:
    """An fdt.arena op at the current insertion point."""
    attributes = {
        "size": _i64(arena.size),
        "alignment": _i64(arena.alignment),
        "method": ir.StringAttr.get(arena.method),
        "lower_bound": _i64(arena.lower_bound),
    }
    return ir.Operation.create(ARENA, attributes=attributes)


def create_buffer(memref_type: ir.Type, buffer: Buffer) -> ir.Operation:
    """An fdt.buffer op of `memref_type` at the current insertion point."""
    attributes = {
        "offset": _i64(buffer.offset),
        "first": _i64(buffer.first),
        "last": _i64(buffer.last),
        "name": ir.StringAttr.get(buffer.name),
    }
    return ir.Operation.create(BUFFER, results=[memref_type], attributes=attributes)


def is_fdt_op(op: ir.Operation) -> bool:
    return op.name.startswith("fdt.")


def is_arena(op: ir.Operation) -> bool:
    return op.name == ARENA


def is_buffer(op: ir.Operation) -> bool:
    return op.name == BUFFER


def planned_functions(module_op: ir.Operation) -> list[ir.Operation]:
    """The functions fdt-plan-memory planned: their first op is an fdt.arena."""
    found = []
    for op in module_op.regions[0].blocks[0].operations:
        op = op.operation
        if op.name == "func.func" and op.regions[0].blocks:
            if is_arena(op.regions[0].blocks[0].operations[0].operation):
                found.append(op)
    return found


def arena(op: ir.Operation) -> Arena:
    """The attributes of an fdt.arena op."""
    return Arena(_int(op, "size"), _int(op, "alignment"), _str(op, "method"), _int(op, "lower_bound"))


def buffer(op: ir.Operation) -> Buffer:
    """The attributes of an fdt.buffer op."""
    return Buffer(_str(op, "name"), _int(op, "offset"), _int(op, "first"), _int(op, "last"))


def element_type(buffer_op: ir.Operation) -> str:
    """The element type (as MLIR text) C sees for an fdt.buffer."""
    if ELEMENT_TYPE_ATTR in buffer_op.attributes:
        return str(ir.TypeAttr(buffer_op.attributes[ELEMENT_TYPE_ATTR]).value)
    return str(ir.MemRefType(buffer_op.results[0].type).element_type)


def io_element_types(fn: ir.Operation) -> dict:
    """{"input0": TypeAttr, ...} for the model inputs and outputs of a
    function that the importer typed for C."""
    found = {}
    for kind, key in (("input", "arg_attrs"), ("output", "res_attrs")):
        if key in fn.attributes:
            for k, attrs in enumerate(ir.ArrayAttr(fn.attributes[key])):
                attrs = ir.DictAttr(attrs)
                if ELEMENT_TYPE_ATTR in attrs:
                    found[f"{kind}{k}"] = attrs[ELEMENT_TYPE_ATTR]
    return found


def overlap_mode(module_op: ir.Operation) -> bool:
    """Whether the module asks fdt-plan-memory for overlaps (`fdt.overlap`)."""
    return OVERLAP_ATTR in module_op.attributes


def set_overlap_mode(module_op: ir.Operation, on: bool = True):
    """Sets (or, `on` False, clears) the module's fdt.overlap."""
    if on:
        module_op.attributes[OVERLAP_ATTR] = ir.UnitAttr.get()
    elif OVERLAP_ATTR in module_op.attributes:
        del module_op.attributes[OVERLAP_ATTR]


def set_element_type(buffer_op: ir.Operation, type_attr: ir.TypeAttr):
    buffer_op.attributes[ELEMENT_TYPE_ATTR] = type_attr


def state_marks(fn: ir.Operation, key: str) -> dict:
    """{position: k} of the arguments (`key` "arg_attrs") or results
    ("res_attrs") of `fn` marked `fdt.state = k`."""
    if key not in fn.attributes:
        return {}
    found = {}
    for position, attrs in enumerate(ir.ArrayAttr(fn.attributes[key])):
        attrs = ir.DictAttr(attrs)
        if STATE_ATTR in attrs:
            found[position] = ir.IntegerAttr(attrs[STATE_ATTR]).value
    return found
