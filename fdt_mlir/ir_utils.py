"""Small helpers over the MLIR Python bindings that every stage uses: op
collection and nesting, defining ops, and the static/dynamic index lists of
tensor slices and pads."""

from mlir import ir

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
