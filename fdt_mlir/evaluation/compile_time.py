"""fdt-bench-compile: how long `--tiling all` takes, per model, cold.

Each compile runs in a new process with no signature cache
(search.signature_cache), so every unit is lowered, once with `-j 1` and
once with every CPU available; the arenas of both must be equal (the plan
never depends on the workers). A benchmark: it prints a table, and no test
asserts a time.

    fdt-bench-compile ../shared/models/*.tflite
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..search.signature_cache import ENVIRONMENT
from ..search.unit_workers import available_cpus

_DRIVER = "import sys; from fdt_mlir.cli.fdt_opt_mlir import main; sys.exit(main(sys.argv[1:]))"


def compile_seconds(model: Path, jobs: int) -> tuple[float, int]:
    """(wall seconds, arena bytes) of `fdt-opt-mlir MODEL --tiling all -j JOBS`."""
    environment = {k: v for k, v in os.environ.items() if k != ENVIRONMENT}
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-c", _DRIVER, str(model), "--tiling", "all", "--emit", "c", "-o", out]
        start = time.perf_counter()
        done = subprocess.run([*command, "-j", str(jobs)], env=environment, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if done.returncode:
            raise SystemExit(f"fdt-bench-compile: {model}: {done.stderr.strip().splitlines()[-1]}")
        report = json.loads((Path(out) / f"{model.stem}.report.json").read_text())
    return seconds, report["arena_bytes"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="fdt-bench-compile", description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path, help=".tflite or .onnx files")
    args = parser.parse_args(argv)
    cpus = available_cpus()
    print(f"| model | arena (B) | -j 1 (s) | -j {cpus} (s) |")
    print("|---|---:|---:|---:|")
    for model in args.models:
        one, arena = compile_seconds(model, 1)
        many, same = compile_seconds(model, cpus)
        if same != arena:
            raise SystemExit(f"fdt-bench-compile: {model}: {arena} B with -j 1 but {same} B with -j {cpus}")
        print(f"| {model.stem} | {arena} | {one:.1f} | {many:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
