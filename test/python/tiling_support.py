"""Shared steps of the tiling tests: plans around buffers, compile, compare."""

import functools
import json
from pathlib import Path as FilePath

import numpy as np
from mlir import ir

from fdt_mlir import pipeline
from fdt_mlir.analysis.kernels import function_body, kernels_of
from fdt_mlir.dialect import make_context
from fdt_mlir.importers import load
from fdt_mlir.rewrites.untie import untie_empty_tensors, untie_initializers
from fdt_mlir.search import discovery
from fdt_mlir.testing.cmodel import CModel
from fdt_mlir.testing.driver_process import run_driver
from fdt_mlir.testing.tflm import run_tflm_invokes
from fdt_mlir.tiling_plan import Path

TOOL = FilePath(__file__).resolve().parents[2] / "tools" / "fdt-opt-mlir"


def compile_model(model_path, outdir, name, plan: list[Path] | None = None, options=()) -> CModel:
    """Compiles in a child process: a crash of the compiler fails this test
    only, with the plan and the compiler's last words in the message."""
    args = [str(model_path), "--emit", "c", "-o", str(outdir), "--name", name, *options]
    if plan:
        plan_file = outdir.parent / f"{outdir.name}.plan"
        plan_file.write_text("".join(p.notation() + "\n" for p in plan))
        args += ["--fdt-plan", str(plan_file)]
    status, printed = run_driver(args)
    assert status == 0, f"{[p.notation() for p in plan or []]}: {printed.strip()[-500:]}"
    return CModel(outdir, name)


def largest_intermediates(report, count=3):
    buffers = [b for b in report["buffers"] if b["name"].startswith("buf")]
    return sorted(buffers, key=lambda b: (-b["bytes"], b["name"]))[:count]


def candidate_paths(model_path, producer_name, family):
    """Discovery's candidates for the buffer `producer_name` writes."""
    return discovered_paths(model_path, family, (3, 4, 5), producer_name)


def discovered_paths(model_path, family, partitions, producer_name=None):
    """Discovery's candidates around the kernel `producer_name`, or around
    every kernel."""
    context, _, kernels = _kernels(str(model_path))
    with context, ir.Location.unknown():
        chosen = [k for k in kernels if producer_name in (None, k.name)]
        return [p for k in chosen for p in discovery.candidates(k, kernels, families=(family,), partitions=partitions)]


@functools.lru_cache(maxsize=1)
def _kernels(model_path: str):
    """The kernels the search sees, initializers CSE shares between kernels
    untied (a zero accumulator of two convs, seed 1061), with the context
    and module that own them: loaded once for the many buffers a test asks
    discovery around."""
    context = make_context()
    with context, ir.Location.unknown():
        module = load(model_path, "m")
        pipeline.run_passes(module, pipeline.TOSA_TO_LINALG)
        untie_initializers(function_body(module.operation))
        untie_empty_tensors(module.operation)
        return context, module, kernels_of(function_body(module.operation))


def assert_same_outputs(expected, actual, tolerance=1e-5):
    """int8 bit-exact; float32 within `tolerance` of the outputs' scale."""
    for want, got in zip(expected, actual):
        want = want.reshape(got.shape)
        if want.dtype == np.float32:
            scale = max(float(np.ptp(want)), float(np.max(np.abs(want))), 1e-30)
            assert np.max(np.abs(want - got)) <= tolerance * scale
        else:
            np.testing.assert_array_equal(got, want)


def assert_matches(model_path, tiled: CModel, untiled: CModel, inputs, tolerance=1e-5):
    """The input sets in sequence through one TFLM interpreter and each
    C model, so that recurrent state carries over alike in all; `untiled`
    may be `tiled` itself (a network without a plan), run once per set.
    Both start from their reset state, whatever ran them before."""
    tiled.reset()
    untiled.reset()
    for arrays, reference in zip(inputs, run_tflm_invokes(str(model_path), inputs)):
        out = tiled.run(arrays)
        assert_same_outputs(reference, out, tolerance)
        if untiled is not tiled:
            assert_same_outputs(untiled.run(arrays), out, tolerance)


def assert_shadow_checked(outdir, name, inputs):
    """Runs M.shadow.c (a compile with --shadow-check): it raises at the
    first read of an arena byte that holds another buffer's value. It
    trusts neither the planner nor the overlap analysis."""
    checked = CModel(outdir, name, shadow=True)
    for x in inputs:
        checked.run(x)


def report_of(outdir, name):
    return json.loads((outdir / f"{name}.report.json").read_text())
