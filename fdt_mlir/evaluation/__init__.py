"""Benchmarks: fdt-eval (every model of a folder compiled in every tiling
mode, against TFLM's arena and the floor, with the run time of the generated
C on this machine) and fdt-bench-m4 (the generated C against CMSIS-NN on an
emulated Cortex-M4)."""

from pathlib import Path

# The workplace's shared folder beside the clone: the reference models and
# CMSIS-NN's sources, the benchmarks' defaults.
SHARED = Path(__file__).resolve().parents[3] / "shared"
