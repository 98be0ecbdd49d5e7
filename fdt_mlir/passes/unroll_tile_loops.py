"""fdt-unroll-tile-loops: fully unroll the tile loops, so that every tile
has a static shape.

fdt-apply-plan makes each fused path an scf.for over its partitions (two
nested ones for an n x n grid), with constant bounds. When the partition
count does not divide the axis, or halos are clipped at the borders, tile
extents are affine.min / affine.max of the induction variable: dynamic
shapes, for which IREE cannot bound the temporaries of a dispatch
("'memref.alloca' op expected no unbounded stack allocations"). Unrolled,
each tile's induction variable is a constant, and canonicalize folds its
extents, slices and pads to static shapes.

Every scf.for with constant bounds is unrolled, innermost first, by the
upstream transform op `transform.loop.unroll` with its trip count as the
factor (which leaves a single iteration, inlined). After fdt-apply-plan
these are exactly the tile loops. The search's paths have at most 25 tiles
(an explicit plan may ask for more), so a path's code grows by that factor.
"""

from mlir import ir

from ..ir_utils import constant_trip_count
from ..rewrites.tile_and_fuse import run_transform
from . import register


@register("fdt-unroll-tile-loops", "Fully unroll scf.for loops with constant bounds (static tile shapes)")
def unroll_tile_loops(module_op: ir.Operation):
    # In post-order, inner loops come before their outer one, whose handle
    # stays valid while its body is unrolled.
    loops = []

    def visit(op):
        if op.name == "scf.for" and constant_trip_count(op):
            loops.append((op, constant_trip_count(op)))
        return ir.WalkResult.ADVANCE

    module_op.walk(visit, ir.WalkOrder.POST_ORDER)
    if not loops:
        return
    unit = ir.UnitAttr.get()
    lines = []
    for k, (loop, n) in enumerate(loops):
        loop.attributes[f"fdt.unroll_{k}"] = unit
        lines += [
            f"    %loop{k} = transform.structured.match attributes{{fdt.unroll_{k}}} in %module"
            " : (!transform.any_op) -> !transform.any_op",
            f"    transform.loop.unroll %loop{k} {{factor = {n}}} : !transform.any_op",
        ]
    run_transform(module_op, "\n".join(lines))

    def strip(op):
        for name in [a for a in op.attributes if a.startswith("fdt.unroll_")]:
            del op.attributes[name]
        return ir.WalkResult.ADVANCE

    module_op.walk(strip)
