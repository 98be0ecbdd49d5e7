"""Small helpers over the MLIR Python bindings that every stage uses: op
collection and nesting, defining ops, constants and constant trip counts,
recreating an op on other operands, row-major linearization, and the
static/dynamic index lists of tensor slices and pads."""

from mlir import ir
from mlir.dialects import arith

DYNAMIC = ir.ShapedType.get_dynamic_size()


def ops_named(root: ir.Operation, name: str) -> list:
    """Every op called `name` nested in `root`, collected before a rewrite
    changes the IR under the walk."""
    found = []

    def visit(op):
        if op.name == name:
            found.append(op)
        return ir.WalkResult.ADVANCE

    root.walk(visit)
    return found


def mixed_indices(static_attr, dynamic_values):
    """Interleaves a static/dynamic index list, as OpFoldResults (ints or
    index values)."""
    dynamic = iter(dynamic_values)
    return [next(dynamic) if v == DYNAMIC else v for v in ir.DenseI64ArrayAttr(static_attr)]


def unit_slice(op):
    """(offsets, sizes) of a unit-stride tensor.extract_slice or
    insert_slice, as OpFoldResults; None for other strides."""
    if any(s != 1 for s in ir.DenseI64ArrayAttr(op.attributes["static_strides"])):
        return None
    dynamic = list(op.operands[2 if op.name == "tensor.insert_slice" else 1 :])
    n_off = sum(1 for v in ir.DenseI64ArrayAttr(op.attributes["static_offsets"]) if v == DYNAMIC)
    n_size = sum(1 for v in ir.DenseI64ArrayAttr(op.attributes["static_sizes"]) if v == DYNAMIC)
    offsets = mixed_indices(op.attributes["static_offsets"], dynamic[:n_off])
    return offsets, mixed_indices(op.attributes["static_sizes"], dynamic[n_off : n_off + n_size])


def pad_amounts(pad):
    """(low, high) padding of a tensor.pad per dim, ints or index values."""
    n_low = sum(1 for v in ir.DenseI64ArrayAttr(pad.attributes["static_low"]) if v == DYNAMIC)
    low = mixed_indices(pad.attributes["static_low"], list(pad.operands[1 : 1 + n_low]))
    high = mixed_indices(pad.attributes["static_high"], list(pad.operands[1 + n_low :]))
    return low, high


def defining(value, name):
    """The op called `name` that defines `value`, else None."""
    owner = value.owner
    if isinstance(owner, ir.OpView) and owner.operation.name == name:
        return owner.operation
    return None


def is_within(op, ancestor) -> bool:
    """Whether `op` is `ancestor` or nested in it."""
    ancestor = ancestor.operation
    op = op.operation
    while op.name != "builtin.module":
        if op == ancestor:
            return True
        op = op.parent.operation
    return False


def constant_value(value: ir.Value) -> int | float | None:
    """The integer or float an `arith.constant` gives, else None."""
    owner = value.owner
    if isinstance(owner, ir.OpView) and owner.operation.name == "arith.constant":
        attr = owner.operation.attributes["value"]
        if isinstance(attr, ir.IntegerAttr):
            return ir.IntegerAttr(attr).value
        if isinstance(attr, ir.FloatAttr):
            return ir.FloatAttr(attr).value
    return None


def constant_trip_count(loop) -> int | None:
    """The number of iterations of an scf.for with constant bounds, else None."""
    lower, upper, step = (constant_value(loop.operands[i]) for i in range(3))
    if lower is None or upper is None or step is None or step <= 0:
        return None
    return max(0, -(-(upper - lower) // step))


def recreate(op, operands: list) -> ir.Operation:
    """A copy of region-free `op` on `operands`, at the insertion point."""
    return ir.Operation.create(
        op.name,
        results=[r.type for r in op.results],
        operands=operands,
        attributes={name: op.attributes[name] for name in op.attributes},
    )


def linearized(indices: list, shape: list) -> ir.Value:
    """sum(index_k * stride_k) over a row-major `shape`, at the insertion
    point; canonicalize folds the constant cases."""
    index_type = ir.IndexType.get()
    if not indices:
        return arith.ConstantOp(index_type, 0).result
    total, stride = None, 1
    for index, size in zip(reversed(indices), reversed(shape)):
        term = index if stride == 1 else arith.MulIOp(index, arith.ConstantOp(index_type, stride).result).result
        total = term if total is None else arith.AddIOp(total, term).result
        stride *= size
    return total
