"""fdt-bench: compile every model of a folder and print the memory table.

A benchmark, not a test: for each tiling mode it states the arena, the MACs
recomputed, and the compile time, against TFLM's planned activation memory
(the arena "head" from tflite-micro's allocation report) and the floor no
tiling can beat, max(input bytes, output bytes).
"""

import argparse
import math
import time
from pathlib import Path

from .driver import compile_file
from .errors import FdtError
from .search import Options
from .testing.tflm import tflm_head_bytes

DEFAULT_MODELS = Path(__file__).resolve().parent.parent.parent / "shared" / "models"

# (column label, options) of each design mode; "all0" forbids recomputation.
MODES = (
    ("none", Options("none")),
    ("fdt", Options("fdt")),
    ("ffmt", Options("ffmt")),
    ("all", Options("all")),
    ("all0", Options("all", max_mac_overhead=0)),
)


def bench_model(path: Path, modes=MODES) -> dict:
    row = {"model": path.stem, "head": tflm_head_bytes(str(path)), "runs": {}}
    for label, options in modes:
        start = time.perf_counter()
        try:
            _, report = compile_file(str(path), path.stem, options)
        except FdtError as e:
            row["error"] = f"--tiling {options.tiling}: {e}"
            return row
        row["runs"][label] = {
            "arena": report["arena_bytes"],
            "overhead": report["macs"] / report["macs_untiled"] - 1 if report["macs_untiled"] else 0.0,
            "seconds": time.perf_counter() - start,
            "paths": report["paths"],
        }
        row["floor"] = max(report["input_bytes"], report["output_bytes"])
    return row


def format_table(rows: list[dict], modes=MODES) -> str:
    labels = [label for label, _ in modes]
    header = ["model", *(f"{m} B" for m in labels), "floor B", "head B", "all/none", "all/head", "all0/head"]
    header += [f"MAC+ {m}" for m in labels[1:]] + ["all s"]
    table = [header]
    for r in rows:
        if r.get("error"):
            table.append([r["model"], "failed"] + [""] * (len(header) - 2))
            continue
        runs = r["runs"]
        cells = [r["model"], *(str(runs[m]["arena"]) for m in labels), str(r["floor"]), str(r["head"])]
        cells += [f"{runs['all']['arena'] / runs['none']['arena']:.3f}", f"{runs['all']['arena'] / r['head']:.3f}"]
        cells += [f"{runs['all0']['arena'] / r['head']:.3f}"]
        cells += [f"{100 * runs[m]['overhead']:.1f}%" for m in labels[1:]] + [f"{runs['all']['seconds']:.1f}"]
        table.append(cells)
    good = [r for r in rows if not r.get("error")]
    if good:
        geo = lambda key: math.exp(sum(math.log(r["runs"][key]["arena"] / r["head"]) for r in good) / len(good))  # noqa: E731
        table.append(["geomean"] + [""] * (len(labels) + 3) + [f"{geo('all'):.3f}", f"{geo('all0'):.3f}"] + [""] * len(labels))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))) for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="fdt-bench", description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="?", default=str(DEFAULT_MODELS), help="folder of .tflite models")
    args = parser.parse_args(argv)
    paths = sorted(Path(args.models).glob("*.tflite"))
    if not paths:
        parser.error(f"no .tflite models in {args.models}")
    rows = [bench_model(p) for p in paths]
    print(format_table(rows))
    for r in rows:
        if r.get("error"):
            print(f"{r['model']}: {r['error']}")
        else:
            for path in r["runs"]["all"]["paths"]:
                print(f"{r['model']}: {path}")
    return 0 if not any(r.get("error") for r in rows) else 1
