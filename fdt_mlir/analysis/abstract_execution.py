"""Abstract execution of tile loops on linalg on tensors.

Inside the tile loops of fused tiling a slice's extent depends on the
iteration (uneven last tiles, halos clipped at the borders). Executing the
loops abstractly, evaluating the index arithmetic of each iteration and
following each slice's shape, gives two exact facts: the MACs (a conv or
dense layer is a linalg.generic that multiplies and reduces; its MACs are
the product of its loop trip counts), which counts FFMT's recomputed halos,
and the largest extent each dynamically sized tile takes, which bounds the
static buffer it needs.
"""

import math

from mlir import ir

from ..errors import FdtError
from ..ir_utils import DYNAMIC, mixed_indices, pad_amounts
from .indexing import maps, n_inputs
from .kernels import location_name


def _affine(expr, dims, symbols):
    if isinstance(expr, ir.AffineDimExpr):
        return dims[expr.position]
    if isinstance(expr, ir.AffineSymbolExpr):
        return symbols[expr.position]
    if isinstance(expr, ir.AffineConstantExpr):
        return expr.value
    lhs, rhs = _affine(expr.lhs, dims, symbols), _affine(expr.rhs, dims, symbols)
    if isinstance(expr, ir.AffineAddExpr):
        return lhs + rhs
    if isinstance(expr, ir.AffineMulExpr):
        return lhs * rhs
    if isinstance(expr, ir.AffineFloorDivExpr):
        return lhs // rhs
    if isinstance(expr, ir.AffineCeilDivExpr):
        return -(-lhs // rhs)
    if isinstance(expr, ir.AffineModExpr):
        return lhs % rhs
    raise FdtError(f"internal error: cannot evaluate affine expression {expr}")


def _map_values(attr, operands):
    amap = ir.AffineMapAttr(attr).value
    dims, symbols = operands[: amap.n_dims], operands[amap.n_dims :]
    return [_affine(e, dims, symbols) for e in amap.results]


CMP = {
    0: lambda a, b: a == b,
    1: lambda a, b: a != b,
    2: lambda a, b: a < b,
    3: lambda a, b: a <= b,
    4: lambda a, b: a > b,
    5: lambda a, b: a >= b,
    6: lambda a, b: a < b,
    7: lambda a, b: a <= b,
    8: lambda a, b: a > b,
    9: lambda a, b: a >= b,
}

INDEX_OPS = {
    "arith.addi": lambda a, b: a + b,
    "arith.subi": lambda a, b: a - b,
    "arith.muli": lambda a, b: a * b,
    "arith.divsi": lambda a, b: int(a / b),
    "arith.divui": lambda a, b: a // b,
    "arith.ceildivsi": lambda a, b: -(-a // b),
    "arith.floordivsi": lambda a, b: a // b,
    "arith.remsi": lambda a, b: int(math.fmod(a, b)),
    "arith.minsi": min,
    "arith.maxsi": max,
    "arith.minui": min,
    "arith.maxui": max,
    "arith.andi": lambda a, b: a & b,
    "arith.ori": lambda a, b: a | b,
}


def _values(indices, env):
    """A mixed index list (ints and index values) as ints, in `env`."""
    return [v if isinstance(v, int) else env[v] for v in indices]


class _Execution:
    def __init__(self, tiles_only=False):
        self.env = {}  # index/integer values and tensor shapes
        self.macs = 0
        self.macs_by_kernel = {}  # the kernel's name (its ops' location) -> its MACs
        self.largest = {}  # dynamically sized tensor.empty -> largest shape seen
        # Only the loops that size a dynamic tile (MACs are then not counted).
        self.tiles_only = tiles_only

    def shape(self, value):
        t = ir.RankedTensorType(value.type)
        if t.has_static_shape:
            return list(t.shape)
        return self.env[value]

    def block(self, block):
        for op in block.operations:
            self.op(op.operation)

    def op(self, op):
        name = op.name
        if name == "arith.constant":
            value = op.attributes["value"]
            if isinstance(value, ir.IntegerAttr):
                self.env[op.results[0]] = ir.IntegerAttr(value).value
        elif name in INDEX_OPS and all(v in self.env for v in op.operands):
            self.env[op.results[0]] = int(INDEX_OPS[name](*(self.env[v] for v in op.operands)))
        elif name == "arith.cmpi" and all(v in self.env for v in op.operands):
            pred = ir.IntegerAttr(op.attributes["predicate"]).value
            self.env[op.results[0]] = int(CMP[pred](*(self.env[v] for v in op.operands)))
        elif name == "arith.select" and all(v in self.env for v in op.operands):
            c, a, b = (self.env[v] for v in op.operands)
            self.env[op.results[0]] = a if c else b
        elif name in ("affine.apply", "affine.min", "affine.max"):
            values = _map_values(op.attributes["map"], [self.env[v] for v in op.operands])
            self.env[op.results[0]] = {"affine.apply": values[0], "affine.min": min(values), "affine.max": max(values)}[
                name
            ]
        elif name == "tensor.extract_slice":
            n_off = sum(1 for v in ir.DenseI64ArrayAttr(op.attributes["static_offsets"]) if v == DYNAMIC)
            sizes = _values(mixed_indices(op.attributes["static_sizes"], list(op.operands[1 + n_off :])), self.env)
            dropped = ir.RankedTensorType(op.results[0].type).rank != len(sizes)
            self.env[op.results[0]] = [s for s in sizes if not (dropped and s == 1)]
        elif name == "tensor.empty" and op.operands:
            dynamic = iter(self.env[v] for v in op.operands)
            shape = [next(dynamic) if d == DYNAMIC else d for d in ir.RankedTensorType(op.results[0].type).shape]
            self.env[op.results[0]] = shape
            seen = self.largest.get(op, shape)
            self.largest[op] = [max(a, b) for a, b in zip(seen, shape)]
        elif name in ("tensor.generate", "tensor.expand_shape"):
            # An all-padding tile, or an expanded tile: the dynamic extents
            # are the operands (after the source's).
            dynamic = iter(self.env[v] for v in op.operands[name == "tensor.expand_shape" :])
            shape = ir.RankedTensorType(op.results[0].type).shape
            self.env[op.results[0]] = [next(dynamic) if d == DYNAMIC else d for d in shape]
        elif name == "tensor.pad":
            source = self.shape(op.operands[0])
            low, high = (_values(amounts, self.env) for amounts in pad_amounts(op))
            self.env[op.results[0]] = [s + lo + hi for s, lo, hi in zip(source, low, high)]
        elif name == "tensor.dim" and op.operands[1] in self.env:
            self.env[op.results[0]] = self.shape(op.operands[0])[self.env[op.operands[1]]]
        elif name == "tensor.insert_slice":
            self.env[op.results[0]] = self.shape(op.operands[1])
        elif name == "scf.for":
            self.loop(op)
        elif name == "scf.if":
            taken = op.regions[0] if self.env.get(op.operands[0], 1) else op.regions[1]
            self.block(taken.blocks[0])
            for result, value in zip(op.results, taken.blocks[0].operations[-1].operands):
                if isinstance(result.type, ir.RankedTensorType):
                    self.env[result] = self.shape(value)
        elif name == "linalg.generic":
            self.generic(op)
        for result in op.results:
            if (
                isinstance(result.type, ir.RankedTensorType)
                and result not in self.env
                and not ir.RankedTensorType(result.type).has_static_shape
            ):
                if name in ("linalg.generic",) or name.startswith("tensor."):
                    self.env[result] = self.shape(op.operands[-1])

    def loop(self, op):
        body = op.regions[0].blocks[0]
        inits = list(op.operands[3:])
        for value, init in zip(list(body.arguments)[1:] + list(op.results), inits + inits):
            if isinstance(value.type, ir.RankedTensorType):
                self.env[value] = self.shape(init)
        if self.tiles_only and not _sizes_a_tile(op):
            return
        lower, upper, step = (self.env[v] for v in op.operands[:3])
        for i in range(lower, upper, step):
            self.env[body.arguments[0]] = i
            self.block(body)

    def generic(self, op):
        kinds = [str(a) for a in op.attributes["iterator_types"]]
        body = [o.operation.name for o in op.regions[0].blocks[0].operations]
        ranges = {}
        for amap, operand in zip(maps(op), op.operands):
            if isinstance(operand.type, ir.RankedTensorType):
                for expr, size in zip(amap.results, self.shape(operand)):
                    if isinstance(expr, ir.AffineDimExpr):
                        ranges[expr.position] = size
        for result, init in zip(op.results, op.operands[n_inputs(op) :]):
            self.env[result] = self.shape(init)
        if any("reduction" in k for k in kinds) and any(n in ("arith.muli", "arith.mulf") for n in body):
            macs = math.prod(ranges.get(d, 1) for d in range(len(kinds)))
            self.macs += macs
            kernel = location_name(op)
            self.macs_by_kernel[kernel] = self.macs_by_kernel.get(kernel, 0) + macs


def _sizes_a_tile(loop) -> bool:
    found = []

    def visit(op):
        if op.name == "tensor.empty" and op.operands:
            found.append(op)
            return ir.WalkResult.INTERRUPT
        return ir.WalkResult.ADVANCE

    loop.walk(visit)
    return bool(found)


def execute(module_op: ir.Operation, tiles_only=False) -> _Execution:
    """Executes the module's functions (linalg on tensors) abstractly;
    `tiles_only` skips the loops that size no dynamic tile."""
    run = _Execution(tiles_only)
    for op in module_op.regions[0].blocks[0].operations:
        op = op.operation
        if op.name == "func.func" and op.regions[0].blocks:
            run.block(op.regions[0].blocks[0])
    return run


def count_macs(module_op: ir.Operation) -> int:
    """Multiply-accumulates of every conv/dense/matmul, tile loops included."""
    return execute(module_op).macs
