"""Registry of fdt-mlir's own passes.

Each pass lives in its own module and registers itself here under its
command-line name, so that pipelines can mix them freely with upstream passes
(`fdt_mlir.pipeline` and `fdt-opt-mlir --pass-pipeline`).
"""

from collections.abc import Callable
from dataclasses import dataclass

from mlir import ir


@dataclass(frozen=True)
class PassInfo:
    name: str
    summary: str
    run: Callable[[ir.Operation], None]


REGISTRY: dict[str, PassInfo] = {}


def register(name: str, summary: str):
    def wrap(fn):
        REGISTRY[name] = PassInfo(name, summary, fn)
        return fn

    return wrap


def load_all():
    """Imports every pass module so that each registers itself."""
    from . import (  # noqa: F401
        adopt_window_pads,
        apply_plan,
        block_channels,
        bound_tiles,
        bufferize,
        copy_slices,
        drop_pad_guards,
        fill_splat_inits,
        flatten_memrefs,
        fold_constant_generics,
        fold_crops,
        fold_depth_multiplier,
        fold_pad,
        lower_apply_scale,
        lower_arena_to_emitc,
        lower_dot_to_ukernel,
        lower_math_to_c99,
        mark_layers,
        merge_read_twice,
        nchw_depthwise,
        plan_memory,
        refill_tile_outputs,
        relayout_weights,
        schedule,
        shadow_arena,
        skip_padding,
        state_to_globals,
        tile_kernels,
        unroll_tile_loops,
    )
