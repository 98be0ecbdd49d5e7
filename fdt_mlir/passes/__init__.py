"""Registry of fdt-mlir's own passes.

Each pass lives in its own module and registers itself here under its
command-line name, so that pipelines can mix them freely with upstream passes
(`fdt_mlir.pipeline` and `fdt-opt-mlir --pass-pipeline`).
"""

from dataclasses import dataclass
from typing import Callable

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


def run_transform(module_op: ir.Operation, body: str):
    """Runs transform-dialect ops (`body`, on the handle %module) on the module."""
    from mlir.dialects.transform import interpreter

    script = ir.Module.parse(
        "module attributes {transform.with_named_sequence} {\n"
        "  transform.named_sequence @__transform_main(%module: !transform.any_op {transform.consumed}) {\n"
        f"{body}\n    transform.yield\n  }}\n}}"
    )
    interpreter.apply_named_sequence(module_op, script.body.operations[0], script)


def load_all():
    """Imports every pass module so that each registers itself."""
    from . import (  # noqa: F401
        apply_plan,
        bound_tiles,
        bufferize,
        flatten_memrefs,
        fold_crops,
        fold_depth_multiplier,
        fold_pad,
        lower_arena_to_emitc,
        lower_roundeven,
        plan_memory,
        tile_kernels,
    )
