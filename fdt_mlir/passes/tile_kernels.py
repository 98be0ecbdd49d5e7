"""fdt-tile-kernels: run every kernel one output element at a time.

A naive lowering materialises the int32 accumulator of a whole int8 conv or
dense layer (4x its int8 result) and every chain of elementwise ops. TFLM's
kernels never do: they keep one accumulator in a register and requantize it
at once. This pass groups each linalg op with the producers it can absorb
without recomputation (single use, read element-for-element by the consumer,
plus tensor.pad) and tiles the group's root to single output elements with
the transform dialect's tile-and-fuse, so the accumulator shrinks to one
element and the intermediates vanish.

A kernel that reduces rows and broadcasts the results back over them
(SOFTMAX, LOG_SOFTMAX, L2_NORMALIZATION) first runs row by row, as TFLM's:
its last op is tiled by rows with the kernel's other ops fused in, so a
row's max or sum is one element. Within a kernel, a pointwise value that
several of its ops read element for element is copied for each reader,
and a pointwise value read through a broadcast is recomputed per read, as
TFLM's kernels do (a softmax's exps, broadcasting comparisons), so that
neither is kept whole.

At function level a group stays within one kernel (one location name):
every operator's output is materialised, as in TFLM, and fusing across
operators is left to the tiling plan, whose paths the cost model prices.
Inside a path's tile loop the slices are the plan's own, and kernels fuse.

The loops over a kernel's output elements (or rows), but the innermost,
are marked `fdt.reversible`: their iterations are independent (parallel
dims), so fdt-plan-memory may run them last iteration first. The innermost
(output channels, mostly) keeps its order, which the microkernels group.
"""

from mlir import ir

from ..analysis.indexing import GENERIC, is_elementwise, iterators, loop_extents, maps, n_inputs, tensors_read
from ..analysis.kernels import is_activation, location_name
from ..dialect.ops import REVERSIBLE_ATTR
from ..rewrites.tile_and_fuse import tile_and_fuse_all
from ..rewrites.untie import untie, untie_empty_tensors, untie_initializers
from . import register


def _reads_elementwise(consumer, operand_index) -> bool:
    """True when each element of the operand feeds exactly one output tile:
    the operand's map is a projected permutation covering every parallel dim
    (but unit dims, along which there is one tile)."""
    amap = maps(consumer)[operand_index]
    if not amap.is_projected_permutation:
        return False
    used = {e.position for e in amap.results if isinstance(e, ir.AffineDimExpr)}
    extents = loop_extents(consumer)
    parallel = {i for i, kind in enumerate(iterators(consumer)) if kind == "parallel" and extents.get(i) != 1}
    return parallel <= used


def _fused_without_cost(producer, value, group) -> bool:
    """True when every user of `value` is in `group`, so that fused with them
    its tensor vanishes, and fusing adds no MAC: tile-and-fuse computes a
    producer once per reader, which only an arith-only pointwise op may
    afford."""
    users = {use.owner.operation for use in value.uses}
    return users <= group and (len(users) == 1 or (producer.name == GENERIC and _arith_pointwise(producer)))


def _fusible_producers(op, is_root, same_kernel, group):
    """Producers of `op` that can move into its tile loop, nearest first:
    ones used only inside `group` and read element for element, pads, and
    arith-only pointwise ops of the same kernel, of the same block.

    The root's own init (outs) stays outside: it initialises the root's result
    buffer in place, and the tile loop threads it through its iter_args. A
    producer outside a path's tile loop stays there: fused into the loop,
    it would run once per tile."""
    found = []
    operands = list(op.operands)
    if is_root:
        operands = operands[: n_inputs(op)]
    for index, operand in enumerate(operands):
        owner = operand.owner
        if not isinstance(owner, ir.OpView):
            continue
        producer = owner.operation
        if not _fused_without_cost(producer, operand, group) or producer.parent != op.parent:
            continue
        if same_kernel and location_name(producer) != location_name(op):
            continue
        if _one_element_tensor(operand) and not _reads_elementwise(op, index):
            continue  # a row's sum, broadcast: a register, computed once per row
        if producer.name == GENERIC and not maps(producer)[-1].is_projected_permutation:
            continue  # a reduction kept as a unit dim (d0, d1, 0, 0): tiling cannot slice its result
        if producer.name == "tensor.pad":
            found.append(producer)
        elif producer.name == GENERIC and op.name == GENERIC and _reads_elementwise(op, index):
            found.append(producer)
        elif producer.name == GENERIC and location_name(producer) == location_name(op) and _arith_pointwise(producer):
            found.append(producer)  # read through a window or a pad: recomputed per read
        elif (
            same_kernel
            and location_name(producer) == location_name(op)
            and is_elementwise(producer)
            and is_elementwise(op)
        ):
            found.append(producer)  # read through a broadcast: recomputed per read, as TFLM's broadcasting kernels do
    return found


def _arith_pointwise(op) -> bool:
    """A generic mapping elements to elements with arith ops only (an input
    offset, a cast). Recomputed for each read of a window it costs less than
    the MAC that reads it, as the input offset inside an int8 conv kernel
    does; materialised it would be a whole tensor of its kernel's input."""
    body = op.regions[0].blocks[0].operations
    return (
        all(kind == "parallel" for kind in iterators(op))
        and all(m.is_projected_permutation for m in maps(op))
        and all(inner.operation.name.startswith("arith.") or inner.operation.name == "linalg.yield" for inner in body)
    )


def untie_shared_pointwise(block):
    """A pointwise op that several ops of its own kernel read element for
    element gets a copy per reader, so that each reader's tile loop
    recomputes it rather than the kernel keeping it whole: TFLM's SOFTMAX
    computes each exp once for the sum and again for the output. Visited
    from the last op back, so that the ops a copy reads are untied in turn."""
    for op in reversed(list(block.operations)):
        op = op.operation
        name = location_name(op)
        if name is None or not is_elementwise(op) or not _recomputable(op, name):
            continue
        uses = list(op.results[0].uses)
        if len({use.owner.operation for use in uses}) > 1 and all(
            location_name(use.owner) == name
            and use.owner.operation.block == op.block
            and use.owner.operation.name == GENERIC
            and _reads_elementwise(use.owner, use.operand_number)
            for use in uses
        ):
            untie(op, relocate=False)


def _recomputable(op, name) -> bool:
    """True when the pointwise ops of kernel `name` that `op` reads through
    read, besides constants, only the kernel's inputs and values they
    broadcast (a row's max): copies of `op` then keep nothing live that the
    kernel does not keep anyway. (An LSTM's cell state reads whole gate
    vectors: copied, it would keep them all live.)"""
    if any(is_activation(value) for value in tensors_read(op)[len(op.operands) :]):
        return False  # it reads a tensor inside its body: a gather, a copy
    for index in range(n_inputs(op)):
        value = op.operands[index]
        owner = value.owner
        if not isinstance(owner, ir.OpView) or location_name(owner) != name:
            continue
        producer = owner.operation
        if producer.name in ("arith.constant", "tensor.extract_slice"):
            continue  # a constant, or the kernel's input as a tile loop slices it
        if not _reads_elementwise(op, index):
            continue
        if not (is_elementwise(producer) and _recomputable(producer, name)):
            return False
    return True


def _one_element_tensor(value) -> bool:
    return isinstance(value.type, ir.RankedTensorType) and all(n == 1 for n in ir.RankedTensorType(value.type).shape)


def row_kernels(block):
    """[(root, tile sizes, [producers to fuse])] for each kernel that reduces
    rows and broadcasts the results back over them (SOFTMAX, LOG_SOFTMAX,
    L2_NORMALIZATION): its last op is tiled by rows, and every other op of
    the kernel moves into that loop, computed once per row, as TFLM's
    kernels run. A row's max or sum is then one element (a register) and
    the ops on whole rows are tiled further, one element at a time, like
    any kernel's. The rows are the loop dims along which the last op reads
    every reduced value it broadcasts."""
    jobs, done = [], set()
    for op in reversed([o.operation for o in block.operations]):
        name = location_name(op)
        if op.name != GENERIC or name is None or name in done:
            continue
        done.add(name)
        kinds = iterators(op)
        rows = None
        for index in range(n_inputs(op)):
            if not _reads_elementwise(op, index) and _reduced_in_kernel(op.operands[index], name):
                used = {e.position for e in maps(op)[index].results if isinstance(e, ir.AffineDimExpr)}
                rows = used if rows is None else rows & used
        if not rows or "reduction" in kinds:
            continue
        members = [
            o.operation
            for o in reversed(list(block.operations))
            if o.operation.name == GENERIC and o.operation != op and location_name(o) == name
        ]
        jobs.append((op, [1 if d in rows else 0 for d in range(len(kinds))], members))
    return jobs


def _reduced_in_kernel(value, name) -> bool:
    """True when `value` comes, through ops of kernel `name`, from a reduction."""
    owner = value.owner
    if not isinstance(owner, ir.OpView) or location_name(owner) != name:
        return False
    producer = owner.operation
    if producer.name == GENERIC and "reduction" in iterators(producer):
        return True
    operands = list(producer.operands)[: n_inputs(producer)] if producer.name == GENERIC else producer.operands
    return any(_reduced_in_kernel(v, name) for v in operands)


def kernel_groups(block, same_kernel: bool):
    """[(root, [producers to fuse, in fusion order])] for every linalg root.

    A group grows to a fixed point: a producer read by several of its
    members joins once all of them have (consumers always come first)."""
    fused = set()
    groups = []
    ops = [op.operation for op in block.operations]
    for op in reversed(ops):
        if op.name != GENERIC or op in fused:
            continue
        members, group, grown = [], {op}, True
        while grown:
            grown = False
            for current in [op, *members]:
                for producer in _fusible_producers(current, current == op, same_kernel, group):
                    if producer not in fused:
                        fused.add(producer)
                        group.add(producer)
                        members.append(producer)
                        grown = True
        groups.append((op, members))
    return groups


@register("fdt-tile-kernels", "Tile each kernel to single output elements and fuse its private producers")
def tile_kernels(module_op: ir.Operation):
    rows = [job for block in _blocks(module_op) if _is_function(block) for job in row_kernels(block)]
    if rows:
        untie_empty_tensors(module_op)
        tile_and_fuse_all(module_op, rows, clean_up=True, share_slices=True, mark_outer=REVERSIBLE_ATTR)
    blocks = _blocks(module_op)
    for block in blocks:
        untie_initializers(block)
        untie_shared_pointwise(block)
    # CSE shares empty tensors again after fdt-apply-plan untied them: a
    # fused producer would take its consumer's destination as its own.
    untie_empty_tensors(module_op)
    for block in blocks:
        same_kernel = _is_function(block)
        jobs = {False: [], True: []}
        for root, members in kernel_groups(block, same_kernel):
            kinds = iterators(root)
            if "parallel" in kinds:
                # A producer of a fused pad is used by the pad's dead original
                # until clean-up erases it; clean-up costs a walk per fusion.
                behind_pad = any(m.name == "tensor.pad" for m in members[:-1])
                jobs[behind_pad].append((root, [1 if kind == "parallel" else 0 for kind in kinds], members))
        for clean_up, some in jobs.items():
            if some:
                tile_and_fuse_all(module_op, some, clean_up, mark_outer=REVERSIBLE_ATTR)


def _is_function(block) -> bool:
    return block.owner.operation.name == "func.func"


def _blocks(module_op):
    """Function bodies, and the bodies of the tile loops fused tiling made:
    the ops in them are kernels too, on slices."""
    blocks = []

    def visit(op):
        if op.name in ("func.func", "scf.for") and op.regions[0].blocks:
            blocks.append(op.regions[0].blocks[0])
        return ir.WalkResult.ADVANCE

    module_op.walk(visit)
    return blocks
