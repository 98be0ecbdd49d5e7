"""fdt-bench-m4: the generated C against CMSIS-NN on an emulated Cortex-M4.

For each model and mode, the C that fdt-mlir generates (with a call to
`fdt_layer(k)` where operator k starts) is cross-compiled for a Cortex-M4 and
run once in an emulator (`cortex_m`), on fixed pseudo-random inputs; its
outputs must equal those of the same C built for this machine. An int8
.tflite model is also run through Arm's CMSIS-NN kernels, with the same
weights, quantization and inputs (`cmsis_nn`), built and counted the same
way; its outputs must equal ours bit for bit. The tables state, per model and
per layer, instructions, estimated cycles (`cortex_m4_cycles`), MACs, and the
flash and RAM of each program.
"""

import argparse
import json
import math
import random
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..api import Options, compile
from ..emit.files import write_files
from ..errors import FdtError
from ..importers.tflite_reader import read_tflite
from . import SHARED, cortex_m
from .cmsis_nn import cmsis_nn_program
from .tables import geomean, markdown_table, ratio

DEFAULT_MODELS = SHARED / "models"
DEFAULT_CMSIS_NN = SHARED / "cmsis-nn"
MODES = {"none": Options("none"), "all0": Options("all", max_mac_overhead=0), "all": Options("all")}
SEED = 20261206


@dataclass
class Measured:
    """One program's run: counts per layer, memory, and its MACs."""

    run: cortex_m.Run
    macs: int
    arena: int | None = None  # ours only: the planned arena
    paths: tuple = ()  # ours only: the tiling paths (tiling_plan.Path), each marked as one layer


def inputs_for(sizes: list[int], seed: int = SEED) -> list[bytes]:
    """Fixed pseudo-random bytes, one string per model input."""
    rng = random.Random(seed)
    return [bytes(rng.randrange(256) for _ in range(n)) for n in sizes]


def harness(name: str, arena, inputs: list[bytes]) -> str:
    """fdt_model_invoke for the generated C: copy in, M_invoke, copy out."""
    lines = ["#include <string.h>", f'#include "{name}.h"']
    for k, data in enumerate(inputs):
        lines.append(f"const unsigned char fdt_input{k}[{len(data)}] = {{{', '.join(map(str, data))}}};")
    outputs = arena.io("output")
    lines += [f"unsigned char fdt_output{k}[{b.bytes}];" for k, b in enumerate(outputs)]
    lines.append("void fdt_model_invoke(void) {")
    lines += [f"  memcpy({name}_{b.name}(), fdt_input{k}, {b.bytes});" for k, b in enumerate(arena.io("input"))]
    lines.append(f"  {name}_invoke();")
    lines += [f"  memcpy(fdt_output{k}, {name}_{b.name}(), {b.bytes});" for k, b in enumerate(outputs)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def bench_ours(model: Path, mode: str, workdir: Path, inputs: list[bytes] | None = None) -> tuple[Measured, list]:
    """(measured run, inputs) of fdt-mlir's C for `model` in `mode`; the
    emulated outputs are checked against the host build's."""
    result = compile(model, MODES[mode], layer_marks=True)
    outdir = workdir / f"{result.name}.{mode}"
    write_files(outdir, result.files)
    if inputs is None:
        inputs = inputs_for([b.bytes for b in result.arena.io("input")])
    (outdir / "fdt_harness.c").write_text(harness(result.name, result.arena, inputs))
    sources = [outdir / f"{result.name}.c", outdir / "fdt_harness.c"]
    sizes = [b.bytes for b in result.arena.io("output")]
    run = cortex_m.run(cortex_m.build(sources, [outdir], outdir / "m4"), sizes)
    host = cortex_m.host_outputs(sources, [outdir], outdir / "host", sizes)
    if run.outputs != host:
        raise FdtError(f"{model.name} --tiling {mode}: the Cortex-M4 outputs differ from the host build's")
    return Measured(run, result.report["macs"], result.arena.size, tuple(result.paths)), inputs


def cmsis_nn_library(cmsis_dir: Path, workdir: Path) -> Path:
    """CMSIS-NN's int8 kernels as a Cortex-M4 static library."""
    sources = sorted(p for p in (cmsis_dir / "Source").glob("*/*.c") if "_f16" not in p.name and "_f32" not in p.name)
    if not sources:
        raise FdtError(f"no CMSIS-NN sources in {cmsis_dir}/Source (give --cmsis-nn DIR)")
    return cortex_m.build_library(sources, [cmsis_dir / "Include"], workdir / "cmsis-nn")


def bench_cmsis_nn(model: Path, inputs: list[bytes], library: Path, cmsis_dir: Path, workdir: Path) -> Measured:
    program = cmsis_nn_program(str(model), inputs)
    outdir = workdir / f"{model.stem}.cmsis-nn"
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "model.c").write_text(program.source)
    elf = cortex_m.build([outdir / "model.c"], [cmsis_dir / "Include"], outdir / "m4", [library])
    run = cortex_m.run(elf, program.outputs, ["fdt_failed_layer"])
    if run.words["fdt_failed_layer"] != -1:
        raise FdtError(f"{model.name}: CMSIS-NN failed in operator {run.words['fdt_failed_layer']}")
    return Measured(run, sum(program.macs))


@dataclass(frozen=True)
class Layer:
    name: str  # OPCODE:index
    kind: str  # conv 1x1, conv kxk, depthwise, dense, or the opcode in lower case
    macs: int  # of a conv, depthwise conv or dense layer; 0 for the others


def layers_of(model: Path) -> dict[int, Layer]:
    """The model's operators by index, as the tables name and count them."""
    graph = read_tflite(str(model), model.stem)
    layers = {}
    for op in graph.operators:
        kind, macs = op.opcode.lower(), 0
        if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            weights = graph.tensors[op.inputs[1]].shape
            window = weights[1:3] if op.opcode == "DEPTHWISE_CONV_2D" else weights[1:]
            macs = math.prod(graph.tensors[op.outputs[0]].shape) * math.prod(window)
            kind = {"DEPTHWISE_CONV_2D": "depthwise", "FULLY_CONNECTED": "dense"}.get(op.opcode)
            kind = kind or ("conv 1x1" if weights[1] == weights[2] == 1 else "conv kxk")
        layers[op.index] = Layer(f"{op.opcode}:{op.index}", kind, macs)
    return layers


def _ratio(a, b) -> str:
    return ratio(a, b, 2)


def model_rows(results: list[dict]) -> list[str]:
    header = ["model", "mode", "arena B", "MACs", "MACs added", "instr", "instr/MAC", "cycles", "CMSIS-NN instr"]
    header += ["CMSIS-NN cycles", "cycles / CMSIS-NN", "flash B", "RAM B", "stack B"]
    untiled = {r["model"]: r["ours"]["macs"] for r in results if r["mode"] == "none"}
    rows = []
    for r in results:
        ours, theirs = r["ours"], r.get("cmsis_nn")
        base = theirs["macs"] if theirs else untiled.get(r["model"])
        added = f"{100 * (ours['macs'] / base - 1):+.1f} %" if base else "n/a"
        rows.append(
            [r["model"], r["mode"], ours["arena"], ours["macs"], added, ours["instructions"]]
            + [_ratio(ours["instructions"], ours["macs"])]
            + [ours["cycles"], theirs["instructions"] if theirs else "n/a", theirs["cycles"] if theirs else "n/a"]
            + [_ratio(ours["cycles"], theirs["cycles"] if theirs else None), ours["flash"], ours["ram"], ours["stack"]]
        )
    return markdown_table(header, rows)


def geomeans(results: list[dict]) -> list[str]:
    """Per mode, the geometric mean over models of cycles / CMSIS-NN's."""
    lines = []
    for mode in dict.fromkeys(r["mode"] for r in results):
        ratios = [r["ours"]["cycles"] / r["cmsis_nn"]["cycles"] for r in results if r["mode"] == mode and r["cmsis_nn"]]
        if ratios:
            mean = geomean(ratios)
            lines.append(f"geometric mean of cycles / CMSIS-NN, --tiling {mode}: {mean:.2f} over {len(ratios)} models")
    return lines


def kind_rows(results: list[dict]) -> list[str]:
    """Per layer kind and mode: cycles / CMSIS-NN's over every layer of that
    kind, and the worst model."""
    totals: dict = {}
    for r in results:
        for layer in r["ours"]["layers"]:
            other = _their_cycles(r, layer)
            if other is None or not layer["macs"]:
                continue
            entry = totals.setdefault((layer["kind"], r["mode"]), {})
            ours, cmsis = entry.get(r["model"], (0, 0))
            entry[r["model"]] = (ours + layer["cycles"], cmsis + other)
    rows = []
    for (kind, mode), per_model in sorted(totals.items()):
        ours, cmsis = (sum(v[i] for v in per_model.values()) for i in (0, 1))
        worst = max(per_model, key=lambda m: per_model[m][0] / per_model[m][1])
        rows.append([kind, mode, _ratio(ours, cmsis), f"{worst} {_ratio(*per_model[worst])}"])
    return markdown_table(["layer kind", "mode", "cycles / CMSIS-NN", "worst model"], rows)


def _their_cycles(result: dict, layer: dict) -> int | None:
    """CMSIS-NN's cycles for the operators one of our layers runs (a path
    runs several)."""
    theirs = {other["index"]: other["cycles"] for other in (result["cmsis_nn"] or {}).get("layers", [])}
    if not theirs:
        return None
    return sum(theirs.get(k, 0) for k in layer["kernels"])


def layer_rows(result: dict) -> list[str]:
    header = ["layer", "kind", "MACs", "instr", "cycles", "CMSIS-NN cycles", "cycles / CMSIS-NN"]
    rows = []
    for layer in result["ours"]["layers"]:
        other = _their_cycles(result, layer)
        rows.append(
            [layer["name"], layer["kind"], layer["macs"] or "", layer["instructions"], layer["cycles"]]
            + [other if other is not None else "n/a", _ratio(layer["cycles"], other)]
        )
    return markdown_table(header, rows)


def summary(measured: Measured, layers: dict[int, Layer]) -> dict:
    """Numbers of one program, per model and per layer (`layers_of`)."""
    # A tile loop runs its whole path, marked with the path's last kernel.
    covers = {k: [k] for k in layers}
    labels = {k: layer.name for k, layer in layers.items()}
    kinds = {k: layer.kind for k, layer in layers.items()}
    for path in measured.paths:
        last = int(path.kernels[-1].rsplit(":", 1)[1])
        covers[last] = [int(name.rsplit(":", 1)[1]) for name in path.kernels]
        labels[last] = f"{path.compact()} {path.chain()}"
        kinds[last] = "path"
    run = measured.run
    total = run.model
    sections = run.sections
    return {
        "macs": measured.macs,
        "instructions": total.instructions,
        "cycles": total.cycles,
        "flash": sections["text"] + sections["rodata"] + sections["data"],
        "ram": sections["data"] + sections["bss"],
        "stack": run.stack,
        "layers": [
            {
                "index": k,
                "name": labels.get(k, str(k)),
                "kind": kinds.get(k, "?"),
                "kernels": covers.get(k, [k]),
                "macs": sum(layers[i].macs for i in covers.get(k, [k]) if i in layers),
                "instructions": c.instructions,
                "cycles": c.cycles,
            }
            for k, c in run.layers.items()
            if k >= 0
        ],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="fdt-bench-m4", description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", help="the .tflite models (default: the int8 models of ../shared/models)")
    parser.add_argument("--mode", action="append", choices=list(MODES), help="tiling modes (default: none and all0)")
    parser.add_argument("--cmsis-nn", default=str(DEFAULT_CMSIS_NN), help="CMSIS-NN's source tree")
    parser.add_argument("--no-cmsis-nn", action="store_true", help="only run fdt-mlir's C")
    parser.add_argument("--layers", action="store_true", help="also print the per-layer table of each model")
    parser.add_argument("-o", dest="output", help="also write CORTEX_M4.md and cortex_m4.json into this folder")
    args = parser.parse_args(argv)
    default = ["micro_speech", "aww", "toycar", "vww", "resnet"]
    models = [Path(m) for m in args.models] or [DEFAULT_MODELS / f"{m}.tflite" for m in default]
    modes = args.mode or ["none", "all0"]
    results = []
    try:
        cortex_m.require_emulator()
        cortex_m.toolchain()
        missing = [str(m) for m in models if not m.is_file()]
        if missing:
            raise FdtError(f"no such model: {missing[0]}")
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            cmsis_dir = Path(args.cmsis_nn)
            library = None if args.no_cmsis_nn else cmsis_nn_library(cmsis_dir, work)
            for model in models:
                print(f"fdt-bench-m4: {model.name}", file=sys.stderr, flush=True)
                inputs, theirs, their_summary, layers = None, None, None, layers_of(model)
                for mode in modes:
                    ours, inputs = bench_ours(model, mode, work, inputs)
                    if library is not None and theirs is None:
                        theirs = bench_cmsis_nn(model, inputs, library, cmsis_dir, work)
                        their_summary = summary(theirs, layers)
                    if theirs is not None and theirs.run.outputs != ours.run.outputs:
                        raise FdtError(f"{model.name} --tiling {mode}: CMSIS-NN's outputs differ from fdt-mlir's")
                    row = {"model": model.stem, "mode": mode, "ours": summary(ours, layers)}
                    row["cmsis_nn"] = their_summary
                    row["ours"]["arena"] = ours.arena
                    results.append(row)
    except FdtError as e:
        print(f"fdt-bench-m4: error: {e}", file=sys.stderr)
        return 1
    print("\n".join(tables(results, args.layers)))
    if args.output:
        command = "fdt-bench-m4 " + " ".join(argv if argv is not None else sys.argv[1:])
        files = {
            "CORTEX_M4.md": markdown(results, command.strip()),
            "cortex_m4.json": json.dumps(results, indent=2) + "\n",
        }
        write_files(args.output, files)
    return 0


def tables(results: list[dict], layers: bool) -> list[str]:
    lines = model_rows(results)
    if any(r["cmsis_nn"] for r in results):
        lines += ["", *geomeans(results), "", *kind_rows(results)]
    if layers:
        for r in results:
            lines += ["", f"{r['model']} --tiling {r['mode']}", "", *layer_rows(r)]
    return lines


def markdown(results: list[dict], command: str) -> str:
    """CORTEX_M4.md: the tables, with what they count and how."""
    lines = [
        "# fdt-mlir on an emulated Cortex-M4, against CMSIS-NN",
        "",
        f"Made by `{command}`. Both programs are built with `arm-none-eabi-gcc {' '.join(cortex_m.CFLAGS)}` and run "
        "once in unicorn on the same inputs; their outputs are equal bit for bit (and equal the host build's). "
        "Counts cover the model's layers, from the first `fdt_layer` mark to the last, without copying inputs "
        "and outputs. Cycles are estimated per instruction class (fdt_mlir/evaluation/cortex_m4_cycles.py). "
        "Flash and RAM are the whole program image (model, harness with its inputs, start-up code and libc); "
        "the CMSIS-NN program keeps every activation in an array of its own, so its RAM is not comparable.",
        "",
        *tables(results, layers=True),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
