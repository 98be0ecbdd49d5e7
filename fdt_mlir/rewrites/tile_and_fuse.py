"""Tile-and-fuse through upstream's transform dialect, scripted from Python.

fdt-apply-plan and fdt-tile-kernels tile an op with scf.for and fuse its
producers into the loop (`transform.structured.tile_using_for`,
`fuse_into_containing_op`); other passes run short transform scripts
(bufferization, unrolling). The ops a script works on are handed over
through marker attributes.
"""

from mlir import ir


def run_transform(module_op: ir.Operation, body: str):
    """Runs transform-dialect ops (`body`, on the handle %module) on the module."""
    from mlir.dialects.transform import interpreter

    script = ir.Module.parse(
        "module attributes {transform.with_named_sequence} {\n"
        "  transform.named_sequence @__transform_main(%module: !transform.any_op {transform.consumed}) {\n"
        f"{body}\n    transform.yield\n  }}\n}}"
    )
    interpreter.apply_named_sequence(module_op, script.body.operations[0], script)


MATCH = "(!transform.any_op) -> !transform.any_op"


def tile_and_fuse(module_op: ir.Operation, tiled: ir.Operation, tile_sizes, producers, clean_up=False):
    """Tiles `tiled` with scf.for (`tile_sizes`, 0 = untiled) and fuses
    `producers` into the innermost loop, in order (consumers first).

    `clean_up` erases the dead originals and merges slices of slices after
    each fusion, which fusing a chain through several kernels needs."""
    tile_and_fuse_all(module_op, [(tiled, tile_sizes, producers)], clean_up)


# A slice of a reshape becomes a reshape of a slice, which the producer of
# the reshaped value can be fused through; equal slices become one.
_SHARE_SLICES = [
    "    transform.apply_patterns to %func { transform.apply_patterns.tensor.bubble_up_extract_slice }"
    " : !transform.any_op",
    "    transform.apply_cse to %func : !transform.any_op",
]


def tile_and_fuse_all(module_op: ir.Operation, jobs, clean_up=False, share_slices=False, mark_outer=None):
    """`tile_and_fuse` for independent (tiled, tile_sizes, producers) jobs,
    in one transform script: the interpreter's set-up, not the rewriting,
    dominates the cost of a small job.

    `share_slices` also moves slices above reshapes and merges equal slices
    after the tiling and each fusion, so that a producer read through a
    reshape is fused, and one read by several fused ops through one slice
    is fused once, for all of them.

    `mark_outer` (an attribute name) is set on every loop of a job but the
    innermost.

    Ops are handed to the script through marker attributes, set here and
    removed after: fused clones inherit their original's markers."""
    unit = ir.UnitAttr.get()
    lines = [f'    %func = transform.structured.match ops{{["func.func"]}} in %module : {MATCH}']
    for j, (tiled, tile_sizes, producers) in enumerate(jobs):
        tiled.attributes[f"fdt.tile_{j}"] = unit
        for m, op in enumerate(producers):
            op.attributes[f"fdt.fuse_{j}_{m}"] = unit
        n_loops = sum(1 for size in tile_sizes if size)
        loops = ", ".join(["!transform.any_op"] * n_loops)
        lines += [
            f"    %root{j} = transform.structured.match attributes{{fdt.tile_{j}}} in %module : {MATCH}",
            f"    %tiled{j}, %loops{j}:{n_loops} = transform.structured.tile_using_for %root{j}"
            f" tile_sizes {list(tile_sizes)}"
            f" : (!transform.any_op) -> (!transform.any_op, {loops})",
        ]
        if mark_outer:
            lines += [
                f'    transform.annotate %loops{j}#{k} "{mark_outer}" : !transform.any_op' for k in range(n_loops - 1)
            ]
        loop = f"%loops{j}#{n_loops - 1}"
        if share_slices:
            lines += _SHARE_SLICES
        for m in range(len(producers)):
            lines.append(
                f"    %p{j}_{m} = transform.structured.match attributes{{fdt.fuse_{j}_{m}}} in %module : {MATCH}"
            )
            lines.append(
                f"    %f{j}_{m}, %l{j}_{m} = transform.structured.fuse_into_containing_op %p{j}_{m} into {loop}"
                " : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)"
            )
            if clean_up:
                # A dead original would stop the fusion of its own producer; a
                # slice of a slice (a crop outside the loop) must read the
                # producer directly to be fused.
                lines.append("    transform.apply_dce to %func : !transform.any_op")
                lines.append(
                    "    transform.apply_patterns to %func"
                    " { transform.apply_patterns.tensor.merge_consecutive_insert_extract_slice }"
                    " : !transform.any_op"
                )
            if share_slices:
                lines += _SHARE_SLICES
            loop = f"%l{j}_{m}"
    run_transform(module_op, "\n".join(lines))

    def strip(op):
        for name in [a for a in op.attributes if a.startswith(("fdt.tile_", "fdt.fuse_"))]:
            del op.attributes[name]
        return ir.WalkResult.ADVANCE

    module_op.walk(strip)
