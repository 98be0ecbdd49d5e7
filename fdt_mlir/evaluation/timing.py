"""Run time of generated C on this machine.

The one measurement of fdt-mlir that depends on the machine: it states what
tiling costs in time, and is never used to choose a plan. The C is built as
a user builds it (gcc -O2, the C11 flags of the tests) with a harness that
calls M_invoke in a loop on fixed pseudo-random input bytes.
"""

import re
import shutil
import statistics
import subprocess
from pathlib import Path

from ..emit.c import CFLAGS
from ..errors import FdtError

_HARNESS = r"""
#define _POSIX_C_SOURCE 199309L /* clock_gettime under -std=c11 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "{name}.h"

static double now(void) {{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}}

/* argv: samples, minimum seconds per sample. Prints one time per invoke
 * (seconds) for each sample; each sample loops until the minimum passes. */
int main(int argc, char **argv) {{
  if (argc != 3) return 2;
  int samples = atoi(argv[1]);
  double least = atof(argv[2]);
  uint32_t state = 12345u;
{fill}  (void)state;
  {name}_invoke(); /* warm the caches */
  for (int s = 0; s < samples; s++) {{
    long n = 0;
    double start = now(), elapsed;
    do {{
      {name}_invoke();
      n++;
    }} while ((elapsed = now() - start) < least);
    printf("%.9e\n", elapsed / n);
  }}
  return 0;
}}
"""

_FILL = """  for (size_t i = 0; i < {name}_{upper}_BYTES / sizeof({c_type}); i++) {{
    state = state * 1103515245u + 12345u;
    (({c_type} *){name}_{input}())[i] = {value};
  }}
"""

# Floats in [-1, 1): random bit patterns would include NaNs and denormals,
# whose slow paths would time the float unit rather than the code.
_VALUES = {"float": "(float)(state >> 8) / 8388608.0f - 1.0f"}


def build(outdir, name: str, inputs: list[dict], binary) -> str:
    """Builds M.c in `outdir` with the harness into `binary`; `inputs` are
    the planned arena's input buffers (analysis.planned_arena.PlannedBuffer)."""
    fill = ""
    for b in inputs:
        value = _VALUES.get(b.c_type, f"({b.c_type})(state >> 16)")
        fill += _FILL.format(upper=b.name.upper(), c_type=b.c_type, name=name, input=b.name, value=value)
    harness = Path(outdir) / "harness.c"
    harness.write_text(_HARNESS.format(name=name, fill=fill))
    command = ["gcc", *CFLAGS, f"-I{outdir}", "-o", str(binary), str(harness), str(Path(outdir) / f"{name}.c"), "-lm"]
    built = subprocess.run(command, capture_output=True, text=True)
    if built.returncode != 0:
        raise FdtError(f"cannot build the timing harness of {name}: {built.stderr.strip().splitlines()[0]}")
    return str(binary)


def median_invoke_seconds(binaries: list[str], samples: int = 15, least: float = 0.02) -> list[float]:
    """Median over `samples` of the mean time of one M_invoke, per binary.
    The binaries take turns, one sample each, so that a slow spell of the
    machine (another process, a virtual machine's neighbours) falls on all
    of them alike rather than on whichever ran then."""
    times = [[] for _ in binaries]
    for _ in range(samples):
        for k, binary in enumerate(binaries):
            result = subprocess.run([binary, "1", str(least)], check=True, capture_output=True, text=True)
            times[k].append(float(result.stdout))
    return [statistics.median(t) for t in times]


def invoke_instructions(binary: str) -> int | None:
    """Instructions one M_invoke executes, counted by callgrind: the same on
    every run, whatever else the machine does (None without valgrind). The
    difference of runs with 3 and 1 invokes removes start-up and set-up."""
    if shutil.which("valgrind") is None:
        return None
    counts = []
    for samples in (1, 3):
        result = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", binary, str(samples), "0"],
            check=True,
            capture_output=True,
            text=True,
        )
        counts.append(int(re.search(r"refs:\s+([\d,]+)", result.stderr).group(1).replace(",", "")))
    return (counts[1] - counts[0]) // 2
