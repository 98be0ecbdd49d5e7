"""Multiply-accumulate loops: the innermost loops of convolutions and dense
layers after lowering to loops over flat buffers.

Tiled to one output element, such a kernel reduces in a perfect loop nest
whose innermost body is `acc[i] += (a[ia] + a_offset) * (b[ib] + b_offset)`.
In int8: two int8 loads, sign-extended, shifted by constant zero points,
multiplied and added into a one-element int32 accumulator. In float32: two
float loads, multiplied and added into a float accumulator (no offsets).
In a border tile of a padded window (fdt-fold-pad), an operand is
`if (in bounds) load else pad value`. The passes that speed these loops up
(fdt-skip-padding, fdt-block-channels, fdt-lower-dot-to-ukernel) share this
matcher.
"""

from dataclasses import dataclass

from mlir import ir

from ..ir_utils import constant_trip_count, constant_value, defining
from .linear_index import linear_coefficients

# Each offset keeps an int8 value plus itself within 16 bits (an SMLAD lane).
MAX_OFFSET = 32767 - 128


# The element types of a multiply-accumulate: (operands, accumulator).
INT8, FLOAT32 = ("i8", "i32"), ("f32", "f32")
_ARITH = {INT8: ("arith.addi", "arith.muli"), FLOAT32: ("arith.addf", "arith.mulf")}


@dataclass
class MacOperand:
    load: ir.Operation  # the memref.load of the value
    offset: int  # the constant added after sign extension (int8; 0 in float32)
    guard: ir.Operation | None = None  # scf.if (in bounds) {load} else {pad value}, in a border tile

    @property
    def padding_adds_nothing(self) -> bool:
        """Whether the guard's pad value, shifted by the offset, is zero:
        then an out-of-bounds step adds nothing to the sum."""
        if self.guard is None:
            return False
        pad = constant_value(_yielded(self.guard, 1))
        return pad is not None and pad + self.offset == 0


@dataclass
class Mac:
    """acc[i] += (a + a.offset) * (b + b.offset) in the body of a loop."""

    a: MacOperand
    b: MacOperand
    acc_load: ir.Operation
    store: ir.Operation
    types: tuple  # INT8 or FLOAT32


def _yielded(if_op, branch: int) -> ir.Value:
    return list(if_op.regions[branch].blocks[0].operations)[-1].operands[0]


def is_index_arithmetic(op) -> bool:
    return op.name.startswith("arith.") and str(op.results[0].type) in ("index", "i1")


def _guarded_load(guard):
    """The load of scf.if (c) {index arithmetic; load} else {constant},
    else None."""
    if len(guard.results) != 1 or len(guard.regions[1].blocks) == 0 or constant_value(_yielded(guard, 1)) is None:
        return None
    load = defining(_yielded(guard, 0), "memref.load")
    then = [op.operation for op in guard.regions[0].blocks[0].operations][:-1]
    if load is None or any(op != load and not is_index_arithmetic(op) for op in then):
        return None
    return load


def _loaded(value, ops) -> MacOperand | None:
    """A load, or an scf.if yielding a load or a constant."""
    guard = defining(value, "scf.if")
    load = defining(value, "memref.load") if guard is None else _guarded_load(guard)
    if load is None:
        return None
    ops.append(load if guard is None else guard)
    return MacOperand(load, 0, guard)


def _operand(value, ops, types) -> MacOperand | None:
    """int8: extsi(a load or a guarded load) +/- a constant; float32: the
    float load or guarded load itself."""
    if types == FLOAT32:
        operand = _loaded(value, ops)
        return operand if operand is not None and str(operand.load.results[0].type) == "f32" else None
    offset = 0
    for name, sign in (("arith.subi", -1), ("arith.addi", 1)):
        shifted = defining(value, name)
        if shifted is not None:
            constant = constant_value(shifted.operands[1])
            if constant is None:
                return None
            offset, value = sign * constant, shifted.operands[0]
            ops.append(shifted)
            break
    extend = defining(value, "arith.extsi")
    if extend is None or str(extend.operands[0].type) != "i8" or abs(offset) > MAX_OFFSET:
        return None
    ops.append(extend)
    operand = _loaded(extend.operands[0], ops)
    if operand is not None:
        operand.offset = offset
    return operand


def mac_body(loop: ir.Operation) -> Mac | None:
    """The multiply-accumulate `loop`'s body is, or None. Besides it the
    body may hold only index and i1 arithmetic (addresses and guards)."""
    body = [op.operation for op in loop.regions[0].blocks[0].operations]
    stores = [op for op in body if op.name == "memref.store"]
    if len(stores) != 1:
        return None
    store = stores[0]
    types = {"i32": INT8, "f32": FLOAT32}.get(str(store.operands[0].type))
    if types is None:
        return None
    add_name, mul_name = _ARITH[types]
    add = defining(store.operands[0], add_name)
    if add is None:
        return None
    for acc_value, product in ((add.operands[0], add.operands[1]), (add.operands[1], add.operands[0])):
        acc_load, mul = defining(acc_value, "memref.load"), defining(product, mul_name)
        if acc_load is None or mul is None:
            continue
        if acc_load.operands[0] != store.operands[1] or list(acc_load.operands[1:]) != list(store.operands[2:]):
            continue
        ops = [store, add, acc_load, mul]
        a, b = _operand(mul.operands[0], ops, types), _operand(mul.operands[1], ops, types)
        if a is None or b is None:
            return None
        rest = [op for op in body if op not in ops and op.name != "scf.yield"]
        if not all(is_index_arithmetic(op) for op in rest):
            return None
        return Mac(a, b, acc_load, store, types)
    return None


def perfect_nest(loop: ir.Operation) -> list:
    """The unit-step loops that nest perfectly around `loop` (each the only
    op of its parent's body), outermost first, `loop` last; [] when `loop`
    itself does not step by 1."""
    if constant_value(loop.operands[2]) != 1:
        return []
    nest = [loop]
    while True:
        parent = loop.parent
        if parent.name != "scf.for" or constant_value(parent.operands[2]) != 1:
            return nest
        body = [op.operation for op in parent.regions[0].blocks[0].operations]
        if len(body) != 2 or body[0] != loop:
            return nest
        loop = parent.operation
        nest.insert(0, loop)


def induction_variable(loop) -> ir.Value:
    return loop.regions[0].blocks[0].arguments[0]


def contiguous_run(nest: list, mac: Mac) -> tuple[int, int] | None:
    """(position in `nest` of the outermost loop of the longest innermost
    run of loops that walks both operands of `mac` contiguously, the run's
    static length factor), or None. Only the run's outermost loop may have
    bounds known at run time: its trip count is the other factor."""
    ivs = [induction_variable(loop) for loop in nest]
    forms = [linear_coefficients(operand.load.operands[1], ivs) for operand in (mac.a, mac.b)]
    if any(f is None for f in forms) or any(linear_coefficients(v, ivs) != {} for v in mac.store.operands[2:]):
        return None
    static, first = 1, None
    for position in reversed(range(len(nest))):
        if any(f.get(position, 0) != static for f in forms):
            break
        first = position
        trips = constant_trip_count(nest[position])
        if trips is None:
            break
        static *= trips
    return None if first is None else (first, static)
