"""fdt-eval: the evaluation of every model of a folder in every tiling mode.

For each model and mode, without and with overlapping buffers (a kernel's
output over the part of its input it has read), it compiles to C, states
the arena against TFLM's planned activation memory (the arena "head" from
tflite-micro's allocation report) and against the floor no tiling can
beat, max(input, output), the MACs recomputed, the paths chosen, the
compile time, and the run time of the generated C on this machine (gcc
-O2, median of repeated runs). It prints the tables and writes RESULTS.md
(the tables and a paragraph per model saying which family won and why),
results.json (every number) and the charts.
"""

import argparse
import dataclasses
import json
import math
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .. import plots
from ..api import Options, compile
from ..emit.files import write_files
from ..errors import FdtError
from ..report import peak
from . import SHARED
from .tables import geomean, markdown_table, ratio
from .tflm_head import require_tflm, tflm_head_bytes, tflm_invoke_seconds
from .timing import build, invoke_instructions, median_invoke_seconds

DEFAULT_MODELS = SHARED / "models"

# (label, options) of each design mode; "all0" forbids recomputation.
BASE_MODES = (
    ("none", Options("none", overlap=False)),
    ("fdt", Options("fdt", overlap=False)),
    ("ffmt", Options("ffmt", overlap=False)),
    ("all", Options("all", overlap=False)),
    ("all0", Options("all", max_mac_overhead=0, overlap=False)),
)
BASE = [label for label, _ in BASE_MODES]
# The arena/MAC Pareto front of `--tiling all` with overlapping buffers (search.pareto).
FRONT = Options("all", pareto=True)
# Each mode again with overlapping buffers (the default; `--no-overlap`
# turns them off): "all+ov".
OVERLAP = "+ov"
MODES = BASE_MODES + tuple((label + OVERLAP, dataclasses.replace(o, overlap=True)) for label, o in BASE_MODES)
LABELS = [label for label, _ in MODES]

# Known limits of the compiler that explain results, stated with them.
LIMITS = [
    "- A path's input stays whole (and so does its output, or its accumulator for a final `>`): tiling shrinks "
    "only the buffers inside the path.",
    "- Paths follow single-consumer edges: both branches of a residual block are never tiled together.",
    "- The search is greedy, one path per iteration, with a work limit of design points lowered per critical buffer.",
]

# Why a family found no candidate at all around the critical buffers.
NO_PATH = {
    "FDT": "no channel-axis path around the critical buffers",
    "FFMT": "no spatial path around the critical buffers: dense layers, gathers, means and softmax stop FFMT",
}

# The paper's headline (../shared/docs/fdt-method.md, section 2.3).
PAPER_FDT_ONLY = (76.2, 18.1)


def evaluate_model(path: Path, samples: int, plot_dir: Path | None) -> dict:
    """One model in every mode; `error` names the first mode that failed."""
    name = path.stem
    row = {"model": name, "head": tflm_head_bytes(str(path)) if path.suffix == ".tflite" else None, "runs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        binaries = []
        for label, options in MODES:
            start = time.perf_counter()
            try:
                result = compile(path, options, name=name)
            except FdtError as e:
                row["error"] = f"--tiling {options.tiling}: {e}"
                return row
            seconds = time.perf_counter() - start
            report, paths = result.report, result.paths
            build_dir = Path(tmp) / label
            write_files(build_dir, result.files)
            binaries.append(build(build_dir, name, result.arena.io("input"), build_dir / "harness"))
            row["runs"][label] = {
                "arena": report["arena_bytes"],
                "macs": report["macs"],
                "overhead": report["macs"] / report["macs_untiled"] - 1 if report["macs_untiled"] else 0.0,
                "paths": report["paths"],
                "compact": [f"{p.compact()}  {p.chain()}" for p in paths],
                "partitions": sum(math.prod(p.parts) for p in paths),
                "compile_seconds": round(seconds, 2),
                "instructions": invoke_instructions(binaries[-1]),
                "search": _search_summary(report.get("search", [])),
                "peak": _peak_summary(report),
            }
            row["floor"] = max(report["input_bytes"], report["output_bytes"])
            row["macs_untiled"] = report["macs_untiled"]
            if plot_dir is not None and label == "all":
                write_files(plot_dir, plots.arena_files(report))
        try:
            front = compile(path, FRONT, name=name).report
        except FdtError as e:
            row["error"] = f"--pareto: {e}"
            return row
        row["pareto"] = front["pareto"]
        if plot_dir is not None:
            write_files(plot_dir, plots.front_files(front, row["head"]))
        run_seconds = median_invoke_seconds(binaries, samples) if samples else [None] * len(binaries)
    for (label, _), seconds in zip(MODES, run_seconds):
        row["runs"][label]["run_seconds"] = seconds
    tflm = samples and path.suffix == ".tflite"
    row["tflm_seconds"] = tflm_invoke_seconds(str(path), samples) if tflm else None
    return row


def _search_summary(iterations: list[dict]) -> dict:
    """What the paragraphs need: the first critical buffers, and how many
    design points were lowered and found smaller."""
    points = [p for it in iterations for p in it["design_points"]]
    return {
        "critical": [c["producer"] for c in iterations[0]["critical_buffers"]] if iterations else [],
        "design_points": len(points),
        "bounded_out": sum(it["bounded_out"] for it in iterations),
    }


def _peak_summary(report: dict) -> dict:
    """Where the arena's peak sits: the step, the buffers live there
    (largest first: name, bytes, producer) and the bytes they share."""
    step, live, shared = peak(report["buffers"], report.get("overlaps", []))
    live = sorted(live, key=lambda b: (-b["bytes"], b["name"]))
    return {
        "op": step,
        "buffers": [[b["name"], b["bytes"], b["producer"] or "model input"] for b in live],
        "shared_bytes": shared,
    }


def _pct(x: float) -> str:
    return f"{100 * x:+.1f}%" if x else "0.0%"


def _head_geomean(rows: list[dict], mode: str) -> float:
    """Geometric mean of arena / TFLM head over the models that have a head."""
    return geomean([r["runs"][mode]["arena"] / r["head"] for r in rows if r["head"]])


def memory_table(rows: list[dict]) -> list[str]:
    header = [
        "model",
        *(f"{m} B" for m in BASE),
        "floor B",
        "TFLM head B",
        "all/none",
        "all/head",
        "all0/head",
        "floor/all",
    ]
    body = []
    good = [r for r in rows if not r.get("error")]
    for r in rows:
        if r.get("error"):
            body.append([r["model"], "failed", *[""] * (len(header) - 2)])
            continue
        arena = {m: r["runs"][m]["arena"] for m in BASE}
        body.append(
            [r["model"], *(str(arena[m]) for m in BASE), str(r["floor"]), str(r["head"] or "n/a")]
            + [
                ratio(arena["all"], arena["none"], 3),
                ratio(arena["all"], r["head"], 3),
                ratio(arena["all0"], r["head"], 3),
            ]
            + [ratio(r["floor"], arena["all"], 3)]
        )
    headed = [r for r in good if r["head"]]
    if headed:
        none = geomean([r["runs"]["all"]["arena"] / r["runs"]["none"]["arena"] for r in good])
        body.append(
            [
                "geomean",
                *[""] * (len(BASE) + 2),
                f"{none:.3f}",
                f"{_head_geomean(good, 'all'):.3f}",
                f"{_head_geomean(good, 'all0'):.3f}",
                "",
            ]
        )
    return markdown_table(header, body)


def overlap_table(rows: list[dict]) -> list[str]:
    """The arenas with overlapping buffers, each mode against itself without."""
    overlapped = [m + OVERLAP for m in BASE]
    header = ["model", *(f"{m} B" for m in overlapped), *(f"{m}{OVERLAP}/{m}" for m in ("all", "all0"))]
    header += ["all+ov/head", "all0+ov/head"]
    body = []
    good = [r for r in rows if not r.get("error")]
    for r in good:
        runs = r["runs"]
        body.append(
            [r["model"], *(str(runs[m]["arena"]) for m in overlapped)]
            + [ratio(runs[m + OVERLAP]["arena"], runs[m]["arena"], 3) for m in ("all", "all0")]
            + [ratio(runs[m]["arena"], r["head"], 3) for m in ("all+ov", "all0+ov")]
        )
    if any(r["head"] for r in good):
        body.append(
            ["geomean", *[""] * len(overlapped)]
            + [
                f"{geomean([r['runs'][m + OVERLAP]['arena'] / r['runs'][m]['arena'] for r in good]):.3f}"
                for m in ("all", "all0")
            ]
            + [f"{_head_geomean(good, m):.3f}" for m in ("all+ov", "all0+ov")]
        )
    return markdown_table(header, body)


def cost_table(rows: list[dict]) -> list[str]:
    header = ["model", "MACs", *(f"MAC+ {m}" for m in BASE[1:]), "paths (parts)", "compile s", "run us"]
    header += ["TFLM us", "run / TFLM"]
    header += [f"t {m}/none" for m in BASE[1:]] + [f"i {m}/none" for m in BASE[1:]]
    body = []
    for r in rows:
        if r.get("error"):
            continue
        runs = r["runs"]
        base = runs["none"]["run_seconds"]
        timed = base is not None
        body.append(
            [r["model"], str(r["macs_untiled"]), *(_pct(runs[m]["overhead"]) for m in BASE[1:])]
            + [f"{len(runs['all']['paths'])} ({runs['all']['partitions']})", f"{runs['all']['compile_seconds']:.1f}"]
            + [f"{1e6 * base:.1f}" if timed else "n/a"]
            + (
                [f"{1e6 * r['tflm_seconds']:.1f}", ratio(base, r["tflm_seconds"], 3)]
                if r.get("tflm_seconds")
                else ["n/a"] * 2
            )
            + [ratio(runs[m]["run_seconds"], base, 3) if timed else "n/a" for m in BASE[1:]]
            + [ratio(runs[m]["instructions"], runs["none"]["instructions"], 3) for m in BASE[1:]]
        )
    return markdown_table(header, body)


def paragraph(r: dict) -> str:
    """Which family won on this model, and why, from its numbers."""
    if r.get("error"):
        return f"**{r['model']}**: failed ({r['error']})."
    runs = r["runs"]
    none, fdt, ffmt, best = (runs[m]["arena"] for m in ("none", "fdt", "ffmt", "all"))
    critical = ", ".join(runs["all"]["search"]["critical"]) or "none"
    text = [f"**{r['model']}** ({none} B untiled; critical buffers {critical})."]
    if best == none:
        search = runs["all"]["search"]
        text.append(
            f"No path lowers the arena: {search['design_points']} design points were lowered and none is smaller; "
            f"the lower bound ruled out {search['bounded_out']} more."
        )
        if r["floor"] == none:
            text.append("The arena already equals the floor max(input, output).")
    else:
        for family, arena in (("FDT", fdt), ("FFMT", ffmt)):
            if arena == none:
                search = runs[family.lower()]["search"]
                tried, bounded = search["design_points"], search["bounded_out"]
                if tried:
                    why = f"none of its {tried} design points is smaller"
                elif bounded:
                    why = f"the lower bounds of its {bounded} candidates cannot beat the arena"
                else:
                    why = NO_PATH[family]
                text.append(f"{family} alone: no gain ({why}).")
            else:
                cost = _pct(runs[family.lower()]["overhead"])
                text.append(f"{family} alone: {arena} B ({100 * (1 - arena / none):.1f} % smaller, MACs {cost}).")
        families = {p.split()[0].upper() for p in runs["all"]["paths"]}
        winner = families.pop() if len(families) == 1 else "both families"
        text.append(f"`all` chose {winner}: " + "; ".join(f"`{p}`" for p in runs["all"]["paths"]) + ".")
        if runs["all0"]["arena"] != best:
            text.append(f"Without recomputation the best is {runs['all0']['arena']} B.")
        cost = []
        if runs["all"]["run_seconds"] and runs["none"]["run_seconds"]:
            cost.append(f"{runs['all']['run_seconds'] / runs['none']['run_seconds']:.2f} x the untiled run time")
        if runs["all"]["instructions"] and runs["none"]["instructions"]:
            cost.append(f"{runs['all']['instructions'] / runs['none']['instructions']:.3f} x its instructions")
        if cost:
            text.append(f"The tiled C takes {' and '.join(cost)}.")
    if r["head"]:
        verdict = "smaller than" if best < r["head"] else "equal to" if best == r["head"] else "larger than"
        text.append(f"The result is {verdict} TFLM's head ({r['head']} B) and {best / r['floor']:.2f} x the floor.")
    if "all+ov" in runs:
        text.append(_overlap_sentence(runs))
    return " ".join(text)


def _overlap_sentence(runs: dict) -> str:
    """What overlapping buffers give, and where the peak that remains sits."""
    best, plain = runs["all+ov"], runs["all"]["arena"]
    change = f"{100 * (1 - best['arena'] / plain):.1f} % below" if best["arena"] < plain else "the same as"
    peak = best["peak"]
    shown = peak["buffers"][:3]
    live = ", ".join(f"{name} ({bytes_} B, {producer})" for name, bytes_, producer in shown)
    rest = peak["buffers"][3:]
    if rest:
        live += f" and {len(rest)} more ({sum(b[1] for b in rest)} B)"
    shared = f", {peak['shared_bytes']} B of them shared" if peak["shared_bytes"] else ", none of them shared"
    return (
        f"With overlapping buffers, `all` gives {best['arena']} B ({change} without) and `all0` "
        f"{runs['all0+ov']['arena']} B; the peak sits at op {peak['op']}: {live}{shared}."
    )


def paper_comparison(rows: list[dict]) -> list[str]:
    good = [r for r in rows if not r.get("error")]
    lines = [
        f"The paper reports FDT reducing peak memory by {PAPER_FDT_ONLY[0]} % and {PAPER_FDT_ONLY[1]} % "
        "on two models where FFMT could not be applied, and FDT design points without run-time overhead "
        "where FFMT's recomputation is large.",
        "",
    ]
    fdt_only = [r for r in good if r["runs"]["ffmt"]["arena"] == r["runs"]["none"]["arena"] > r["runs"]["fdt"]["arena"]]
    if fdt_only:
        cuts = ", ".join(
            f"{r['model']} {100 * (1 - r['runs']['fdt']['arena'] / r['runs']['none']['arena']):.1f} %" for r in fdt_only
        )
        lines.append(f"- Where FFMT gains nothing, FDT alone reduces the arena here by: {cuts}.")
    costly = [
        r for r in good if r["runs"]["ffmt"]["overhead"] > 0 and r["runs"]["ffmt"]["arena"] < r["runs"]["none"]["arena"]
    ]
    for r in costly:
        fdt = r["runs"]["fdt"]
        if fdt["arena"] < r["runs"]["none"]["arena"]:
            lines.append(
                f"- {r['model']}: FFMT costs {_pct(r['runs']['ffmt']['overhead'])} MACs "
                f"for {r['runs']['ffmt']['arena']} B; FDT gives {fdt['arena']} B with no recomputation."
            )
        else:
            lines.append(
                f"- {r['model']}: FFMT costs {_pct(r['runs']['ffmt']['overhead'])} MACs "
                f"for {r['runs']['ffmt']['arena']} B, and FDT finds no overhead-free alternative here."
            )
    headed = [r for r in good if r["head"]]
    if headed:
        lines.append(
            f"- Geometric mean of arena / TFLM head over {len(headed)} models: "
            f"{_head_geomean(good, 'all'):.3f} with `all`, "
            f"{_head_geomean(good, 'all0'):.3f} without recomputation, "
            f"{_head_geomean(good, 'fdt'):.3f} with FDT alone and "
            f"{_head_geomean(good, 'ffmt'):.3f} with FFMT alone; with overlapping buffers "
            f"{_head_geomean(good, 'all+ov'):.3f} with `all` and {_head_geomean(good, 'all0+ov'):.3f} without "
            "recomputation."
        )
    worse = [r for r in good if r["head"] and r["runs"]["all"]["arena"] > r["head"]]
    same = [r for r in good if r["head"] and r["runs"]["all"]["arena"] == r["head"]]
    if same:
        lines.append(f"- No better than TFLM's head: {', '.join(r['model'] for r in same)}.")
    if worse:
        lines.append(f"- Worse than TFLM's head: {', '.join(r['model'] for r in worse)}.")
    return lines


def markdown(rows: list[dict], command: str, samples: int) -> str:
    lines = [
        "# fdt-mlir evaluation",
        "",
        f"Made by `{command}` on {_machine()}. Arena sizes, MACs and paths are exact and the same on any machine; "
        f"compile and run times are this machine's (run time: the generated C built with gcc -O2, median of {samples} "
        "samples of repeated `M_invoke` calls, the modes of a model taking turns; "
        "`t m/none` is mode m's run time over the untiled one; `i m/none` the same "
        "for the instructions one `M_invoke` executes, counted by callgrind, which do not vary between runs). "
        "`TFLM us` is the tflite-micro package's interpreter (TFLM's reference kernels, as the package builds them) "
        f"on the same model, median of {samples} samples of repeated invokes, each a call through its Python binding "
        "(about a microsecond more); `run / TFLM` is the untiled C's run time over it.",
        "",
        "`all0` is `--tiling all --max-mac-overhead 0`. `MAC+` is the MAC overhead against the untiled model "
        "(negative when tiling skips rows a pooling layer never reads). `floor/all` is how close the result is to "
        "max(input, output), which no tiling can beat (1.000: reached).",
        "",
        "## Memory",
        "",
        *memory_table(rows),
        "",
        "### With overlapping buffers",
        "",
        "Each mode again with overlapping buffers, the compiler's default (the table above is `--no-overlap`): "
        "a kernel's output may be written over the part of an input it has "
        "read for the last time, as far as its loop nest allows (the safe-overlap analysis), with the same exact "
        "layout search. `m+ov/m` is the arena against the same mode without overlap.",
        "",
        *overlap_table(rows),
        "",
        "![arena / TFLM head per model and mode](evaluation.png)",
        "",
        "## Cost",
        "",
        *cost_table(rows),
        "",
        "## Paths chosen with `--tiling all`",
        "",
    ]
    for r in rows:
        for compact in r.get("runs", {}).get("all", {}).get("compact", []):
            lines.append(f"- {r['model']}: `{compact}`")
    lines += ["", *front_section(rows)]
    lines += ["", "## Per model", ""]
    for r in rows:
        lines += [paragraph(r), ""]
    lines += ["## Against the paper and TFLM", "", *paper_comparison(rows), ""]
    lines += ["## What limits these numbers", "", *LIMITS, ""]
    return "\n".join(lines)


def front_section(rows: list[dict]) -> list[str]:
    """Each model's arena/MAC Pareto front (`--pareto`, with overlapping
    buffers), fewest MACs first, and its plot."""
    lines = [
        "## Pareto fronts",
        "",
        "`fdt-opt-mlir M --emit c -o OUT --pareto` (overlapping buffers, `--tiling all`): the plans of the search "
        "under a ladder of MAC budgets that no other one beats in both arena and MACs, fewest MACs first; "
        "`--ram-budget SIZE` emits the first whose arena fits. Every point is a plan the compiler emits; it holds "
        "the `all+ov` and `all0+ov` results or better ones.",
    ]
    for r in rows:
        if not r.get("pareto"):
            continue
        lines += ["", f"**{r['model']}**", "", "| arena B | MACs | MAC+ | paths |", "|--:|--:|--:|:--|"]
        for p in r["pareto"]:
            paths = "; ".join(f"`{n}`" for n in p["paths"]) or "untiled"
            lines.append(f"| {p['arena_bytes']} | {p['macs']} | {p['mac_overhead_percent']:+.1f} % | {paths} |")
        lines += ["", f"![{r['model']}: arena against MACs]({r['model']}.pareto.png)"]
    return lines


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gcc = subprocess.run(["gcc", "-dumpfullversion"], capture_output=True, text=True).stdout.strip()
    return f"{cpu}, Python {platform.python_version()}, gcc {gcc}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="fdt-eval", description=__doc__.splitlines()[0])
    parser.add_argument(
        "models",
        nargs="?",
        default=str(DEFAULT_MODELS),
        help="folder of .tflite and .onnx models (default ../shared/models)",
    )
    parser.add_argument(
        "-o", dest="output", default="results", help="folder for RESULTS.md, results.json and charts (default results)"
    )
    parser.add_argument("--samples", type=int, default=15, help="timing samples per compiled model (0: do not time)")
    args = parser.parse_args(argv)
    paths = sorted(p for p in Path(args.models).glob("*") if p.suffix in (".tflite", ".onnx"))
    if not paths:
        parser.error(f"no .tflite or .onnx models in {args.models}")
    if args.samples < 0:
        parser.error("--samples must be 0 or more")
    if any(p.suffix == ".tflite" for p in paths):
        try:
            require_tflm()
        except FdtError as e:
            print(f"fdt-eval: error: {e}", file=sys.stderr)
            return 1
    out = Path(args.output)
    rows = []
    for p in paths:
        print(f"fdt-eval: {p.name}", file=sys.stderr, flush=True)
        rows.append(evaluate_model(p, args.samples, out))
    command = "fdt-eval " + " ".join(argv if argv is not None else sys.argv[1:])
    results = {
        "command": command.strip(),
        "machine": _machine(),
        "modes": LABELS,
        "samples": args.samples,
        "models": rows,
    }
    files = {
        "RESULTS.md": markdown(rows, command.strip(), args.samples),
        "results.json": json.dumps(results, indent=2) + "\n",
        **plots.evaluation_files([r for r in rows if not r.get("error")], LABELS, "evaluation"),
    }
    write_files(out, files)
    print("\n".join(memory_table(rows)))
    print()
    print("\n".join(overlap_table(rows)))
    print()
    print("\n".join(cost_table(rows)))
    print(f"fdt-eval: wrote {out}/RESULTS.md, results.json and charts", file=sys.stderr)
    return 1 if any(r.get("error") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
