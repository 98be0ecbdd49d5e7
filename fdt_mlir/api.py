"""The compiler as a library: a model in, C (or tiled MLIR for IREE) and a
report out.

    from fdt_mlir.api import Options, compile

    result = compile("model.tflite", Options(tiling="all"))
    print(result.arena.size, [p.notation() for p in result.paths])
    for filename, text in result.files.items():
        ...  # M.c, M.h, M.report.json

The flow is importer -> TOSA_TO_LINALG -> (the search, or the user's plan,
priced by the cost model) -> TILE_PATHS -> KERNELS -> BUFFERIZE -> PLAN ->
MICROKERNELS -> EMITC (`pipeline`), and the report is built last from the
planned arena.
"""

import os
import re
from dataclasses import dataclass

from mlir import ir

from . import pipeline
from . import report as reports
from .analysis.abstract_execution import count_macs, execute
from .analysis.kernels import function_body, kernels_of, run_order
from .analysis.model_io import model_io
from .analysis.planned_arena import PlannedArena, planned_arena
from .analysis.sizes import byte_size, state_globals, weight_bytes
from .dialect import make_context
from .dialect.ops import add_paths, paths_of, set_overlap_mode
from .emit import c as emit_c
from .emit import iree as emit_iree
from .errors import FdtError
from .importers import load, model_name
from .search.cost_model import CostModel
from .search.pareto import fitting, pareto_front
from .search.path_search import FAMILIES, Options, price, search
from .tiling_plan import Path

__all__ = ["CompileResult", "Options", "compile", "compile_module", "FAMILIES"]

C_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # a model's name prefixes its C API


@dataclass(frozen=True)
class CompileResult:
    name: str
    # file name -> text: M.c and M.h (emit "c"; M.shadow.c too with shadow_check)
    # or M.mlir (emit "iree"), and M.report.json
    files: dict
    report: dict  # what M.report.json holds
    arena: PlannedArena  # the C program's arena, as planned
    paths: list  # the tiling plan applied (tiling_plan.Path), searched or given


def compile(
    model: "str | os.PathLike | ir.Module",
    options: Options | None = None,
    *,
    name: str | None = None,
    plan: list[Path] = (),
    emit: str = "c",
    layer_marks: bool = False,
    shadow_check: bool = False,
    print_after_all=None,
    progress=None,
) -> CompileResult:
    """Compiles a .tflite, .onnx or .mlir file, or a module (linalg or TOSA)
    already in a context with the fdt dialect (`dialect.make_context`).

    `options` default to no tiling (`Options("none")`; a kernel's output
    may overlap the inputs it consumes unless `overlap=False`); `plan` applies these
    paths instead of searching (`options.tiling` must then be "none");
    `layer_marks` adds a call to `fdt_layer(k)` where the C starts operator
    k, for profiles (`pipeline.MARK_LAYERS`); `shadow_check` adds
    M.shadow.c, the same program with every arena access checked against
    a shadow tag per byte (`pipeline.SHADOW`, a debugging aid: its
    `M_shadow_error()` names the first access that finds another buffer's
    value; M.c is unchanged); `progress(line)` receives the
    search's progress lines; `print_after_all(pass name, module)` is called
    after every pass."""
    options = options or Options("none")
    if name is not None and not C_IDENTIFIER.fullmatch(name):
        raise FdtError(f"name '{name}' is not a C identifier (it prefixes the C API)")
    if plan and options.tiling != "none":
        raise FdtError(f"a plan is given; it excludes tiling {options.tiling}")
    if isinstance(model, ir.Module):
        add_paths(list(plan), model.operation)
        return compile_module(
            model, name or "model", options, emit, layer_marks, print_after_all, progress, shadow_check
        )
    path = os.fspath(model)
    name = name or model_name(path)
    with make_context(), ir.Location.unknown():
        module = load(path, name)
        add_paths(list(plan), module.operation)
        return compile_module(module, name, options, emit, layer_marks, print_after_all, progress, shadow_check)


def compile_module(
    module: ir.Module,
    name: str,
    options: Options,
    emit="c",
    layer_marks=False,
    print_after_all=None,
    progress=None,
    shadow_check=False,
):
    """Runs the whole flow on `module`, in place; the plan is the module's
    fdt.path ops if it has any, else the one the search finds."""
    io = model_io(module)
    pipeline.run_passes(module, pipeline.TOSA_TO_LINALG, print_after_all)
    explicit = [p for p, _ in paths_of(module.operation)]
    tiled = None
    if explicit:
        # fdt-apply-plan checks a given plan against the method's rules; the
        # cost model assumes a valid one.
        pipeline.run_on_copy(module, ["fdt-apply-plan"])
    front = None
    if explicit or options.tiling != "none":
        if progress:
            what = "pricing the plan" if explicit else f"search ({options.tiling})"
            progress(f"{what}: lowering each kernel on its own first ({options.jobs} worker process(es))")
        with CostModel(module, overlap=options.overlap, jobs=options.jobs) as model:
            if explicit:
                tiled = price(model, explicit)
            elif options.pareto or options.ram_budget is not None:
                front = pareto_front(model, options, progress)
                if options.ram_budget is not None:
                    tiled = fitting(front, options.ram_budget).result
                else:  # the smallest arena, as the search alone aims for
                    tiled = min(front, key=lambda p: (p.arena, p.key())).result
            else:
                tiled = search(model, options, progress)
        if not explicit:
            add_paths(tiled.paths, module.operation)
    macs_untiled = count_macs(module.operation)
    outputs = {k.name: byte_size(k.output_type) for k in kernels_of(function_body(module.operation))}
    pipeline.run_passes(module, pipeline.TILE_PATHS, print_after_all)
    run = execute(module.operation)
    macs = run.macs
    layers = [
        (name, run.macs_by_kernel.get(name, 0), outputs[name])
        for name in run_order(function_body(module.operation), outputs)
    ]
    tensors = emit_iree.module_text(pipeline.run_on_copy(module, pipeline.IREE)) if emit == "iree" else None
    for stage in (pipeline.KERNELS, pipeline.BUFFERIZE):
        pipeline.run_passes(module, stage, print_after_all)
    if options.overlap:
        set_overlap_mode(module.operation)
    pipeline.run_passes(module, pipeline.PLAN, print_after_all)
    arena = planned_arena(module)
    state_bytes = sum(size for _, size, _ in state_globals(module.operation))
    tiling = "plan" if explicit else options.tiling
    report = reports.build(
        name, arena, io, weight_bytes(module), state_bytes, macs, macs_untiled, tiling, tiled, options.overlap, layers
    )
    if front is not None:
        reports.add_front(report, front, tiled, options.ram_budget)
    files = {f"{name}.report.json": reports.json_text(report)}
    if emit == "iree":
        files[f"{name}.mlir"] = tensors
    else:
        if layer_marks:
            pipeline.run_passes(module, pipeline.MARK_LAYERS, print_after_all)
        pipeline.run_passes(module, pipeline.MICROKERNELS, print_after_all)
        # The same loops, checked, on a copy: M.c stays what it is without.
        shadow = pipeline.run_on_copy(module, pipeline.SHADOW + pipeline.EMITC) if shadow_check else None
        pipeline.run_passes(module, pipeline.EMITC, print_after_all)
        files[f"{name}.c"] = emit_c.source(name, emit_c.translate(module))
        if shadow is not None:
            files[f"{name}.shadow.c"] = emit_c.source(name, emit_c.translate(shadow))
        files[f"{name}.h"] = emit_c.header(name, arena, state_bytes, io)
    return CompileResult(name, files, report, arena, tiled.paths if tiled else [])
