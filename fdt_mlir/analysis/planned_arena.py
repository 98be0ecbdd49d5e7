"""The arena of a planned module, as its fdt.arena and fdt.buffer ops state
it: what the C header declares and the report shows."""

from dataclasses import dataclass

from mlir import ir

from ..c_types import C_TYPES
from ..dialect import ops as fdt
from ..errors import FdtError
from .kernels import location_name, node_name
from .sizes import byte_size


@dataclass(frozen=True)
class PlannedBuffer:
    name: str  # input0, output0, buf3, ...
    bytes: int
    offset: int
    first_op: int  # the first and last schedule steps it is live
    last_op: int
    type: str  # the memref type, as MLIR text
    c_type: str
    producer: str | None  # the kernel that writes it first (None: no kernel, a model input)
    producer_node: str | None  # the model's own name for that operator (ONNX node names)


@dataclass(frozen=True)
class PlannedArena(fdt.Arena):
    """The fdt.arena's attributes and the buffers placed in it."""

    buffers: tuple  # PlannedBuffer, in the order fdt-plan-memory declares them
    backward: tuple = ()  # the kernels that run last iteration first (fdt.backward), in order

    def io(self, kind: str) -> list[PlannedBuffer]:
        """The model's inputs ("input") or outputs ("output"), in order."""
        return [b for b in self.buffers if b.name.startswith(kind)]

    def overwritten(self, name: str) -> bool:
        """Whether another buffer shares bytes with buffer `name`: a model
        input is live from the start, so an invoke then overwrites it."""
        a = next(b for b in self.buffers if b.name == name)
        return any(b is not a and b.offset < a.offset + a.bytes and a.offset < b.offset + b.bytes for b in self.buffers)


def planned_arena(module: ir.Module) -> PlannedArena:
    """The first planned function's arena and buffers."""
    arenas, buffers, backward = [], [], []

    def visit(op):
        if fdt.BACKWARD_ATTR in op.attributes:
            backward.append(location_name(op))
        if fdt.is_arena(op):
            arenas.append(fdt.arena(op))
        elif fdt.is_buffer(op):
            placed = fdt.buffer(op)
            buffers.append(
                PlannedBuffer(
                    placed.name,
                    byte_size(op.results[0].type),
                    placed.offset,
                    placed.first,
                    placed.last,
                    str(op.results[0].type),
                    C_TYPES[fdt.element_type(op)],
                    location_name(op),
                    node_name(op),
                )
            )
        return ir.WalkResult.ADVANCE

    module.operation.walk(visit)
    if not arenas:
        raise FdtError("internal error: the module has no fdt.arena (fdt-plan-memory did not run?)")
    arena = arenas[0]
    return PlannedArena(arena.size, arena.alignment, arena.method, arena.lower_bound, tuple(buffers), tuple(backward))
