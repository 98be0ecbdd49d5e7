"""fdt-bench: compile every model of a folder and print the memory table.

A benchmark, not a test: it states where each model stands against TFLM's
planned activation memory (the arena "head" from tflite-micro's allocation
report) and the floor no tiling can beat, max(input bytes, output bytes).
"""

import argparse
import time
from pathlib import Path

from .driver import compile_file
from .errors import FdtError
from .testing.tflm import tflm_head_bytes

DEFAULT_MODELS = Path(__file__).resolve().parent.parent.parent / "shared" / "models"
COLUMNS = ("model", "arena B", "floor B", "TFLM head B", "arena/head", "compile s")


def bench_model(path: Path, tiling: str) -> dict:
    start = time.perf_counter()
    try:
        _, report = compile_file(str(path), path.stem, tiling)
    except FdtError as e:
        return {"model": path.stem, "error": str(e), "head": tflm_head_bytes(str(path)), "seconds": time.perf_counter() - start}
    seconds = time.perf_counter() - start
    head = tflm_head_bytes(str(path))
    return {
        "model": path.stem,
        "arena": report["arena_bytes"],
        "floor": max(report["input_bytes"], report["output_bytes"]),
        "head": head,
        "seconds": seconds,
    }


def format_table(rows: list[dict]) -> str:
    table = [COLUMNS]
    for r in rows:
        if r.get("error"):
            table.append((r["model"], "failed", "", str(r["head"]), "", f"{r['seconds']:.2f}"))
        else:
            ratio = r["arena"] / r["head"]
            table.append((r["model"], str(r["arena"]), str(r["floor"]), str(r["head"]), f"{ratio:.3f}", f"{r['seconds']:.2f}"))
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))) for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="fdt-bench", description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="?", default=str(DEFAULT_MODELS), help="folder of .tflite models")
    parser.add_argument("--tiling", choices=["none"], default="none")
    args = parser.parse_args(argv)
    paths = sorted(Path(args.models).glob("*.tflite"))
    if not paths:
        parser.error(f"no .tflite models in {args.models}")
    rows = [bench_model(p, args.tiling) for p in paths]
    print(format_table(rows))
    for r in rows:
        if r.get("error"):
            print(f"{r['model']}: {r['error']}")
    return 0 if not any(r.get("error") for r in rows) else 1
