"""Reading linalg ops' indexing maps and iterator types, and reshapes'
dim groups: the vocabulary the kernel and axis analyses share."""

from mlir import ir

GENERIC = "linalg.generic"
RESHAPES = ("tensor.collapse_shape", "tensor.expand_shape")


def maps(op):
    return [ir.AffineMapAttr(a).value for a in op.attributes["indexing_maps"]]


def iterators(op):
    return [str(a).split("<")[-1].rstrip(">") for a in op.attributes["iterator_types"]]


def reads_through_windows(op) -> bool:
    """A generic with reduction dims (a conv, a pool): the reader a pad can
    be folded into, and a PAD made part of."""
    return op.name == GENERIC and "reduction" in iterators(op)


def is_elementwise(op) -> bool:
    """A generic mapping elements to elements: parallel loops, an identity
    result, reads of single elements (loop dims, or 0 along a broadcast
    unit dim), a body without regions."""
    if op.name != GENERIC or len(op.results) != 1 or not all(kind == "parallel" for kind in iterators(op)):
        return False
    amaps = maps(op)
    return (
        amaps[-1] == ir.AffineMap.get_identity(amaps[-1].n_dims)
        and all(_reads_one_element(e) for m in amaps for e in m.results)
        and all(len(inner.operation.regions) == 0 for inner in op.regions[0].blocks[0].operations)
    )


def _reads_one_element(expr) -> bool:
    return isinstance(expr, ir.AffineDimExpr) or (isinstance(expr, ir.AffineConstantExpr) and expr.value == 0)


def dim_of(expr):
    """The loop dim an index expression is, or None when it is not a bare dim."""
    return expr.position if isinstance(expr, ir.AffineDimExpr) else None


def dims_in(expr) -> set:
    """Every loop dim an index expression uses (`d2 * 2 + d5`: {2, 5})."""
    if isinstance(expr, ir.AffineDimExpr):
        return {expr.position}
    if isinstance(expr, ir.AffineBinaryExpr):
        return dims_in(expr.lhs) | dims_in(expr.rhs)
    return set()


def loop_extents(op) -> dict:
    """{loop dim: its extent} of a linalg.generic, from its operands' static shapes."""
    extents = {}
    for amap, operand in zip(maps(op), op.operands):
        if isinstance(operand.type, ir.RankedTensorType):
            for expr, size in zip(amap.results, ir.RankedTensorType(operand.type).shape):
                if dim_of(expr) is not None:
                    extents.setdefault(dim_of(expr), size)
    return extents


def n_inputs(op) -> int:
    return len(op.operands) - len(op.results)


def reassociation(source, target):
    """Groups (source dims, target dims) of a row-major reshape between the
    shapes `source` and `target`: the shortest runs of equal element count,
    so unit dims pair up one to one."""
    groups, i, j = [], 0, 0
    while i < len(source) and j < len(target):
        src, dst, a, b = [i], [j], source[i], target[j]
        i, j = i + 1, j + 1
        while a != b:
            if a < b:
                src.append(i)
                a, i = a * source[i], i + 1
            else:
                dst.append(j)
                b, j = b * target[j], j + 1
        groups.append((src, dst))
    if groups:
        groups[-1][0].extend(range(i, len(source)))
        groups[-1][1].extend(range(j, len(target)))
    return groups


def tensors_read(op) -> list:
    """`op`'s operands, then the tensors the ops of its body read from
    outside it (a nearest resize's tensor.extract of its input). One level
    deep: linalg bodies hold no regions that read tensors."""
    reads = list(op.operands)
    for region in op.regions:
        for block in region.blocks:
            for inner in block.operations:
                reads += [v for v in inner.operands if isinstance(v.type, ir.RankedTensorType) and not _is_local(v, op)]
    return reads


def _is_local(value, op) -> bool:
    """True when `value` is defined in `op`'s own body."""
    if isinstance(value, ir.BlockArgument):
        return value.owner.owner.operation == op
    parent = value.owner.operation.parent
    return parent is not None and parent.operation == op
