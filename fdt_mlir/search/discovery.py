"""Path discovery: the fused-tiling paths that can remove one buffer.

A buffer disappears when its producer and consumer run in one tiled loop.
Starting from that edge, a path grows upwards (towards producers) and
downwards (towards consumers) along single-consumer edges while the
chaining rules allow (fdt-method.md, section 2): for FDT, a channel-mixing
kernel ends the growth as '<' at the top or '>' at the bottom, and
channel-wise kernels join as '='; after a '>', kernels linear in its
partial sums join as '~'; for FFMT every kernel must be spatial.
An FDT kernel inside a path must also fold the reshapes it reads through
(a dense layer's flatten, a mean's unit dims), as fdt-apply-plan will.
Every sub-path that still contains the edge is a candidate.
"""

import re

from ..analysis.indexing import GENERIC
from ..analysis.kernels import Kernel
from ..analysis.linearity import NotLinear, partial_sum_chain, partial_sum_gates
from ..tiling_plan import Path

PARTITIONS = (2, 3, 4, 5, 7, 9, 12, 16, 20, 25)


def _producer(kernel: Kernel, kernels: list[Kernel]):
    """The single kernel whose output `kernel` reads, if exactly one."""
    sources = [k for k in kernels if k is not kernel and k.root.results[0] in kernel.inputs()]
    return sources[0] if len(sources) == 1 and len(kernel.inputs()) == 1 else None


def _consumer(kernel: Kernel, kernels: list[Kernel]):
    """The single kernel reading `kernel`'s output, if exactly one."""
    readers = {id(k): k for k in kernels for op in kernel.consumers() if op in k.ops}
    return next(iter(readers.values())) if len(readers) == 1 and kernel.consumers() else None


def _fdt_role(kernel: Kernel, position: str):
    """The role `kernel` can take at the top, middle or bottom of a path."""
    if not _sliceable(kernel) or not kernel.folds_reshapes(from_input=position != "top"):
        return None
    if kernel.channelwise():
        return "="
    if position == "top" and kernel.splits_output_only():
        return "<"
    if position == "bottom" and kernel.mixes_channels():
        return ">"
    return None


def fdt_chain(producer: Kernel, kernels: list[Kernel]):
    """The longest FDT chain through producer -> its consumer, with roles."""
    consumer = _consumer(producer, kernels)
    if consumer is None:
        return None
    up = [(producer, _fdt_role(producer, "top"))]
    if _fdt_role(producer, "top") is None:
        return None
    # A kernel that gets a kernel above it must fold its input's reshapes too.
    while up[0][1] == "=" and up[0][0].folds_reshapes(from_input=True):
        above = _producer(up[0][0], kernels)
        if above is None or _consumer(above, kernels) is not up[0][0] or _fdt_role(above, "top") is None:
            break
        up.insert(0, (above, _fdt_role(above, "top")))
    down = []
    current = consumer
    while current is not None:
        role = _fdt_role(current, "bottom")
        if role is None:
            break
        down.append((current, role))
        current = _consumer(current, kernels)
        if role == ">":
            break
    if down and down[-1][1] == ">":
        tail = []
        while current is not None and _sliceable(current) and _linear_after(down[-1][0], [*tail, current]):
            tail.append(current)
            current = _consumer(current, kernels)
        down += [(k, "~") for k in tail]
    if not down:
        return None
    return up + down


def _linear_after(gt: Kernel, tail: list[Kernel]) -> bool:
    """True when `tail` can take '~' after `gt`: linear in its partial sums."""
    try:
        partial_sum_gates(*partial_sum_chain(gt, tail))
    except NotLinear:
        return False
    return True


def _sliceable(kernel: Kernel) -> bool:
    """True when tile-and-fuse can run the kernel on slices: no value read
    twice, no op it cannot slice, no activation read inside a body, no pad
    but for a window."""
    return (
        not kernel.reads_twice()
        and kernel.foreign_op() is None
        and not kernel.reads_in_body()
        and not kernel.pads_for_elementwise()
    )


def _tiles_spatially(kernel: Kernel) -> bool:
    return kernel.spatial() and _sliceable(kernel)


def ffmt_chain(producer: Kernel, kernels: list[Kernel]):
    consumer = _consumer(producer, kernels)
    if consumer is None or not _tiles_spatially(producer) or not _tiles_spatially(consumer):
        return None
    chain = [producer, consumer]
    while True:
        above = _producer(chain[0], kernels)
        if above is None or _consumer(above, kernels) is not chain[0] or not _tiles_spatially(above):
            break
        chain.insert(0, above)
    while True:
        below = _consumer(chain[-1], kernels)
        if below is None or not _tiles_spatially(below):
            break
        chain.append(below)
    return chain


def _subpaths(chain, edge_top: int):
    """Sub-ranges [i, j] of `chain` containing chain[edge_top] -> chain[edge_top + 1]."""
    for i in range(edge_top + 1):
        for j in range(edge_top + 1, len(chain)):
            yield chain[i : j + 1]


def candidates(producer: Kernel, kernels: list[Kernel], families=("fdt", "ffmt"), partitions=PARTITIONS):
    """Every valid path (with every admissible partition count) that runs
    `producer` and its consumer in one loop, so its output exists in slices."""
    found = []
    if "fdt" in families:
        chain = fdt_chain(producer, kernels)
        if chain is not None:
            top = [k for k, _ in chain].index(producer)
            for sub in _subpaths(chain, top):
                if not _computes(sub[-1][0]):
                    continue
                roles = "".join(r for _, r in sub)
                # '<' only first, '>' only last or before '~': a sub-path may start at '=' too.
                if not re.fullmatch("<?=*(>~*)?", roles):
                    continue
                extent = _fdt_extent(sub)
                for n in partitions:
                    if n <= extent:
                        found.append(Path("fdt", "c", (n,), tuple(k.name for k, _ in sub), roles))
    if "ffmt" in families:
        chain = ffmt_chain(producer, kernels)
        if chain is not None:
            top = chain.index(producer)
            for sub in _subpaths(chain, top):
                if not _computes(sub[-1]):
                    continue
                shape, rows_columns = sub[-1].output_type.shape, sub[-1].output_axes.spatial
                height, width = (shape[a] for a in rows_columns)
                names = tuple(k.name for k in sub)
                for n in partitions:
                    if n <= height:
                        found.append(Path("ffmt", "h", (n,), names, "s" * len(sub)))
                    if n <= width:
                        found.append(Path("ffmt", "w", (n,), names, "s" * len(sub)))
                    if n <= min(height, width) and n <= 5:
                        found.append(Path("ffmt", "hw", (n, n), names, "s" * len(sub)))
    return found


def _computes(kernel: Kernel) -> bool:
    """True unless the kernel only pads or reshapes: a path's loop is built
    around its last kernel's last linalg.generic."""
    return any(op.name == GENERIC for op in kernel.ops)


def _fdt_extent(sub) -> int:
    """Elements of the split axis: input channels of the '>', else output channels."""
    roles = [r for _, r in sub]
    kernel = sub[roles.index(">") - 1][0] if ">" in roles else sub[-1][0]
    return kernel.output_type.shape[kernel.output_axes.channel]
