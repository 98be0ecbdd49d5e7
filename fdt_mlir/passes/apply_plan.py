"""fdt-apply-plan: fused tiling of the paths in the module's fdt.path ops.

Each path is checked against the chaining rules of the method (roles,
single-consumer chains, splittable axes, partition counts) and rewritten with
the transform dialect: the path's last op is tiled along the split axis with
scf.for, and every other op of the path is fused into the loop, producers
last. Tiling interfaces then do the rest: a fused conv computes only the
channel slice or the rows (with halos, padding only on border tiles) its
consumer needs, and each slice is inserted in place into the loop's result.
An FDT path ending in '>' instead tiles that kernel's reduction over input
channels: the loop accumulates its partial sums into one full-size
accumulator, which the kernel's requantization reads after the loop. When
'~' kernels follow the '>', each partition's partial sum goes through them
inside the loop, and the loop accumulates their result instead
(`rewrites.partial_sums`).

Tiling cannot follow a slice through a tensor reshape, so an FDT path first
folds the reshapes between its ops into the linalg.generic ops that read
them (`analysis.kernels.reshape_fold`): a mean's unit dims drop out of its maps, and
a dense layer reading a flattened feature map reduces over (h, w, c), so
its c dim is the split axis. Ops outside the path keep their reshapes.
"""

from mlir import ir
from mlir.dialects import tensor

from ..analysis.indexing import GENERIC, dim_of, iterators, loop_extents, maps
from ..analysis.kernels import function_body, kernel_map, location_name, reshape_fold, reshape_source
from ..analysis.linearity import NotLinear, partial_sum_chain, partial_sum_gates
from ..dialect.ops import paths_of
from ..errors import FdtError
from ..ir_utils import ops_named
from ..rewrites.pad_guards import hoist_pad_guard, pad_guards
from ..rewrites.partial_sums import merge_partial_sums
from ..rewrites.tile_and_fuse import tile_and_fuse
from ..rewrites.untie import untie_empty_tensors, untie_initializers
from . import register

FUSIBLE = (GENERIC, "tensor.pad")

MARK = "fdt.partial_sums"


def _error(path, message):
    return FdtError(f"plan path '{path.notation()}': {message}")


def _kernels(path, kernels, tiled_before):
    chain = []
    for name in path.kernels:
        if name in tiled_before:
            raise _error(path, f"{name} is already tiled by an earlier path of the plan: paths must not overlap")
        if name not in kernels:
            names = list(kernels)
            known = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
            raise _error(path, f"no kernel named '{name}' (kernels are named after their operators: {known})")
        chain.append(kernels[name])
        foreign = kernels[name].foreign_op()
        if foreign is not None:
            raise _error(path, f"{name} has a {foreign.name}, which tiling cannot slice")
        if kernels[name].reads_in_body():
            raise _error(
                path,
                f"{name} reads its input inside its body (as a nearest resize or a gather does), "
                "not through an indexing map, which tiling cannot slice",
            )
        if kernels[name].pads_for_elementwise():
            raise _error(
                path, f"{name} pads for an elementwise reader, so it stays a copy: only windows read pads in place"
            )
        if kernels[name].reads_twice():
            raise _error(
                path,
                f"{name} reads one of its own values twice (as a softmax does): "
                "tile-and-fuse fuses a producer into a loop for one reader at a time",
            )
    for producer, consumer in zip(chain, chain[1:]):
        if producer.root.results[0] not in consumer.inputs():
            raise _error(path, f"{consumer.name} does not read the output of {producer.name}: a path is a chain")
        strangers = [op for op in producer.consumers() if op not in consumer.ops]
        if strangers:
            other = next((k for k in kernels.values() if strangers[0] in k.ops), None)
            reader = other.name if other else strangers[0].name
            raise _error(path, f"the output of {producer.name} is also read by {reader}, outside the path")
    return chain


def _check_fdt_roles(path, chain):
    for i, (kernel, role) in enumerate(zip(chain, path.roles)):
        last = i == len(chain) - 1
        if role == "~":
            if i == 0 or path.roles[i - 1] not in ">~":
                raise _error(
                    path, f"role '~' of {kernel.name}: a partial-sum kernel must follow the '>' kernel or another '~'"
                )
            continue
        if role == "<" and i != 0:
            raise _error(path, f"role '<' of {kernel.name}: only the first kernel of a path may be output-partitioned")
        if role == ">" and not (last or path.roles[i + 1] == "~"):
            raise _error(
                path,
                f"role '>' of {kernel.name}: the input-partitioned kernel must end the path "
                "(only '~' kernels may follow it)",
            )
        if role == "<" and not kernel.splits_output_only():
            raise _error(
                path,
                f"role '<' of {kernel.name}: it cannot compute an output-channel slice from its whole input "
                "(no conv, dense or gather)",
            )
        if role == ">" and not kernel.mixes_channels():
            raise _error(path, f"role '>' of {kernel.name}: it does not mix channels (no conv or dense)")
        if role == "=" and kernel.mixes_channels():
            raise _error(
                path,
                f"role '=' of {kernel.name}: it mixes channels (conv/dense); "
                "it can only start ('<') or end ('>') a path",
            )
        if role == "=" and not kernel.channelwise():
            raise _error(path, f"role '=' of {kernel.name}: it reduces or reshapes the channel axis")
        if not kernel.folds_reshapes(from_input=i > 0):
            raise _error(
                path,
                f"{kernel.name} reads through a reshape that cannot be folded into its ops, "
                "and tiling cannot follow a slice through a reshape",
            )
    if "~" in path.roles:
        _check_linear(path, chain)


def _check_linear(path, chain):
    """A '~' kernel runs on each partition's partial sum: the ops from the
    '>' kernel's reduction to the path's output must be linear."""
    gt = path.roles.index(">")
    try:
        partial_sum_gates(*partial_sum_chain(chain[gt], chain[gt + 1 :]))
    except NotLinear as e:
        what, op = e.args
        tilde = next((k for k in chain[gt + 1 :] if op in k.ops), chain[gt + 1])
        raise _error(
            path,
            f"role '~' of {tilde.name}: the partial sums of {chain[gt].name} "
            f"pass through {what} in {location_name(op)}, "
            "which is not linear (f(a + b) = f(a) + f(b)), so the partitions' results cannot be added",
        ) from None


def _split(path, chain):
    """(the kernels the loop tiles and fuses, the '~' kernels after them).
    '~' kernels that only reshape (a Flatten) compute nothing per partition:
    they reshape the accumulated sums after the loop instead."""
    if "~" in path.roles:
        end = path.roles.index("~")
        if any(op.name == GENERIC for kernel in chain[end:] for op in kernel.ops):
            return chain[:end], chain[end:]
        return chain[:end], []
    return chain, []


def _tiled_op(path, chain):
    """(op to tile, its loop dims to split, each dim's extent)."""
    last = chain[-1]
    if path.family == "fdt" and ">" in path.roles:
        op = last.main
        dims = [dim_of(maps(op)[0].results[last.axes.of(op.operands[0]).channel])]
    else:
        generics = [op for op in last.ops if op.name == GENERIC]
        if not generics:
            raise _error(path, f"{last.name} only pads or reshapes: a path ends in a kernel that computes")
        op = generics[-1]
        out = maps(op)[-1]
        axes = last.axes.of(op.results[0])
        positions = {"c": [axes.channel], "h": axes.spatial[:1], "w": axes.spatial[1:], "hw": axes.spatial}[path.axis]
        dims = [dim_of(out.results[a]) for a in positions]
    extents = loop_extents(op)
    return op, dims, [extents[d] for d in dims]


def _fused_ops(path, chain, tiled):
    """The path's ops to fuse into the loop, in fusion order (latest first)."""
    ops = []
    for i, kernel in enumerate(chain):
        is_last = i == len(chain) - 1
        if is_last:
            # The tiled op's initial value (a fill, or for '>' the accumulator's
            # initialisation) enters the loop as its iter_arg: it stays outside.
            owner = tiled.operands[len(tiled.operands) - 1].owner
            init = owner.operation if isinstance(owner, ir.OpView) else None
            members = [op for op in kernel.ops[: kernel.ops.index(tiled)] if op != init]
        else:
            members = kernel.ops
        ops += [op for op in members if op.name in FUSIBLE]
    return list(reversed(ops))


def _fold_reshapes(head, tail):
    """Folds the reshapes between the path's ops into their readers and
    erases the ones left unread. A '~' kernel reads whole partial sums, so
    only the reshapes inside it are folded, where they can be."""
    kernels = [(k, i > 0) for i, k in enumerate(head)] + [
        (k, False) for k in tail if k.folds_reshapes(from_input=False)
    ]
    for kernel, from_input in kernels:
        for op, index in kernel.reshaped_reads(from_input):
            fold = reshape_fold(op, index)
            reshapes = reshape_source(op.operands[index])[1]
            with ir.InsertionPoint(op), op.location:
                for number, (groups, shape) in fold.expansions.items():
                    operand = op.operands[number]
                    expanded = ir.RankedTensorType.get(shape, ir.RankedTensorType(operand.type).element_type)
                    op.operands[number] = tensor.expand_shape(expanded, operand, _reassociation_attr(groups), [], shape)
            op.operands[index] = fold.source
            op.attributes["indexing_maps"] = ir.ArrayAttr.get([ir.AffineMapAttr.get(m) for m in fold.maps])
            op.attributes["iterator_types"] = ir.ArrayAttr.get(
                [ir.Attribute.parse(f"#linalg.iterator_type<{k}>") for k in fold.iterators]
            )
            for reshape in reversed(reshapes):
                if not list(reshape.results[0].uses):
                    reshape.erase()


def _reassociation_attr(groups):
    i64 = ir.IntegerType.get_signless(64)
    return ir.ArrayAttr.get([ir.ArrayAttr.get([ir.IntegerAttr.get(i64, d) for d in g]) for g in groups])


def _prepare(path, block, tiled_before):
    """Checks the path and folds its reshapes: (op to tile, its dims to
    split, their extents, the ops to fuse, the '~' kernels)."""
    chain = _kernels(path, kernel_map(block), tiled_before)
    if path.family == "fdt":
        _check_fdt_roles(path, chain)
        _fold_reshapes(*_split(path, chain))
        kernels = kernel_map(block)
        chain = [kernels[name] for name in path.kernels]
    else:
        for kernel in chain:
            if not kernel.spatial():
                raise _error(
                    path,
                    f"{kernel.name} has no spatial structure (a dense layer, a reshape or a global reduction): "
                    "FFMT cannot split it",
                )
    head, tail = _split(path, chain)
    tiled, dims, extents = _tiled_op(path, head)
    for parts, extent in zip(path.parts, extents):
        if parts > extent:
            raise _error(
                path, f"{parts} partitions exceed the {extent} elements of axis {path.axis} of {head[-1].name}"
            )
    return tiled, dims, extents, _fused_ops(path, head, tiled), tail


def _partial_sum_tail(block, path, loop):
    """The ops from the '>' kernel's loop to the path's last computing op,
    in order (reshapes after it, a '~' Flatten among them, apply to the
    accumulated sums as they would to each partition's)."""
    kernels = kernel_map(block)
    members = [op for name in path.kernels[path.roles.index(">") :] for op in kernels[name].ops]
    last = [op for op in members if op.name == GENERIC][-1]
    ops = [op.operation for op in block.operations]
    return [op for op in ops[ops.index(loop) + 1 : ops.index(last) + 1] if op in members]


@register("fdt-apply-plan", "Apply the fdt.path tiling plans of the module (FDT and FFMT fused tiling)")
def apply_plan(module_op: ir.Operation):
    paths = paths_of(module_op)
    if not paths:
        return
    block = function_body(module_op)
    untie_initializers(block)
    untie_empty_tensors(module_op)
    tiled_before = set()
    for path, path_op in paths:
        tiled, dims, extents, fused, tail = _prepare(path, block, tiled_before)
        tiled_before.update(path.kernels)
        sizes = [0] * len(iterators(tiled))
        for d, extent, parts in zip(dims, extents, path.parts):
            sizes[d] = -(-extent // parts)
        if tail:
            tiled.attributes[MARK] = ir.UnitAttr.get()
        tile_and_fuse(module_op, tiled, sizes, fused, clean_up=True)
        if tail:
            (main,) = [op for op in ops_named(module_op, GENERIC) if MARK in op.attributes]
            del main.attributes[MARK]
            loop = main.parent
            merge_partial_sums(loop, _partial_sum_tail(block, path, loop))
        for guard in pad_guards(module_op):
            hoist_pad_guard(guard)
        path_op.erase()
