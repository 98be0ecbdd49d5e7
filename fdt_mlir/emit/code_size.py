"""The flash the generated code takes on a Cortex-M4, measured: M.c built
with arm-none-eabi-gcc (emit.c.CORTEX_M4_CFLAGS), its .text sections
summed as arm-none-eabi-size lists them. The weights are counted apart
(the report's weight_bytes): they are .rodata."""

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import FdtError
from .c import CORTEX_M4_CFLAGS

TARGET = "Cortex-M4, arm-none-eabi-gcc -O2"


def code_bytes(files: dict, name: str) -> int:
    """Bytes of code in M.c (`files`: a compile's outputs), built with the
    cross compiler (`missing_tools` says whether it is installed)."""
    with tempfile.TemporaryDirectory() as scratch:
        for filename in (f"{name}.c", f"{name}.h"):
            Path(scratch, filename).write_text(files[filename])
        obj = Path(scratch, f"{name}.o")
        command = ["arm-none-eabi-gcc", *CORTEX_M4_CFLAGS, "-c", str(Path(scratch, f"{name}.c")), "-o", str(obj)]
        built = subprocess.run(command, capture_output=True, text=True)
        if built.returncode != 0:
            first = (built.stderr.strip().splitlines() or ["no message"])[0]
            raise FdtError(f"the code size build failed: {first}")
        listed = subprocess.run(["arm-none-eabi-size", "-A", str(obj)], capture_output=True, text=True, check=True)
    return sum(int(m.group(1)) for m in re.finditer(r"^\.text\S*\s+(\d+)", listed.stdout, re.M))


def missing_tools() -> list[str]:
    """The cross tools code_bytes needs that are not on PATH."""
    return [tool for tool in ("arm-none-eabi-gcc", "arm-none-eabi-size") if shutil.which(tool) is None]
