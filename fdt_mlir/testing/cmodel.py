"""Build generated C into a shared library and run it from Python.

The generated `M_run` is called through ctypes, so tests and benchmarks
exercise exactly the C a user compiles into firmware, with the flags the
issue promises (C11, -Wall -Wextra, no warnings).
"""

import ctypes
import json
import subprocess
from pathlib import Path

import numpy as np

from ..emit.c import CFLAGS

NUMPY_TYPES = {
    "bool": np.bool_,
    "int8_t": np.int8,
    "uint8_t": np.uint8,
    "int16_t": np.int16,
    "int32_t": np.int32,
    "int64_t": np.int64,
    "float": np.float32,
}


def _shape(memref_type: str):
    dims = memref_type[len("memref<") : -1].split("x")[:-1]
    return tuple(int(d) for d in dims)


class ShadowError(AssertionError):
    """The shadow check of C built with `--shadow-check` failed: the first
    arena access that found another buffer's value (or none)."""


class CModel:
    """A compiled model: `run(inputs) -> outputs` with numpy arrays, and
    `reset()`. The library stays loaded, so that the recurrent state
    carries over from one `run` to the next, as in firmware. With `shadow`,
    it builds M.shadow.c (`--shadow-check`) instead of M.c, and `run`
    raises ShadowError with the first error the check found."""

    def __init__(self, outdir, name, shadow=False):
        outdir = Path(outdir)
        self.report = json.loads((outdir / f"{name}.report.json").read_text())
        stem = f"{name}.shadow" if shadow else name
        lib = outdir / f"lib{stem}.so"
        self.lib_path = lib
        # The checked C builds at -O0: six times faster than -O2 on vww's,
        # and its speed is not the point.
        flags = [f for f in CFLAGS if f != "-O2"] + ["-O0"] if shadow else CFLAGS
        subprocess.run(
            ["gcc", *flags, "-shared", "-fPIC", "-o", str(lib), str(outdir / f"{stem}.c")],
            check=True,
            capture_output=True,
            text=True,
        )
        self.lib = ctypes.CDLL(str(lib))
        self.run_fn = getattr(self.lib, f"{name}_run")
        self.reset = getattr(self.lib, f"{name}_reset")
        self.shadow_error = getattr(self.lib, f"{name}_shadow_error", None)
        if self.shadow_error is not None:
            self.shadow_error.restype = ctypes.c_char_p
        buffers = self.report["buffers"]
        self.inputs = sorted((b for b in buffers if b["name"].startswith("input")), key=lambda b: b["name"])
        self.outputs = sorted((b for b in buffers if b["name"].startswith("output")), key=lambda b: b["name"])

    def run(self, inputs):
        args = [np.ascontiguousarray(x, dtype=NUMPY_TYPES[b["c_type"]]) for x, b in zip(inputs, self.inputs)]
        outs = [np.zeros(_shape(b["type"]), dtype=NUMPY_TYPES[b["c_type"]]) for b in self.outputs]
        self.run_fn(*[a.ctypes.data_as(ctypes.c_void_p) for a in args + outs])
        if self.shadow_error is not None and self.shadow_error():
            raise ShadowError(f"shadow check: {self.shadow_error().decode()}")
        return outs

    @property
    def shadow_checked(self) -> bool:
        return self.shadow_error is not None
