"""The flash the generated code takes on a Cortex-M4, measured: M.c built
with arm-none-eabi-gcc (emit.c.CORTEX_M4_CFLAGS), its .text sections
summed as arm-none-eabi-size lists them. The weights are counted apart
(the report's weight_bytes): they are .rodata."""

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .c import CORTEX_M4_CFLAGS

TARGET = "Cortex-M4, arm-none-eabi-gcc -O2"


def code_bytes(files: dict, name: str) -> int | None:
    """Bytes of code in M.c (`files`: a compile's outputs), None without
    the cross compiler or if it fails (the report then leaves it out)."""
    gcc, size = shutil.which("arm-none-eabi-gcc"), shutil.which("arm-none-eabi-size")
    if gcc is None or size is None:
        return None
    with tempfile.TemporaryDirectory() as scratch:
        for filename in (f"{name}.c", f"{name}.h"):
            Path(scratch, filename).write_text(files[filename])
        obj = Path(scratch, f"{name}.o")
        command = [gcc, *CORTEX_M4_CFLAGS, "-c", str(Path(scratch, f"{name}.c")), "-o", str(obj)]
        built = subprocess.run(command, capture_output=True)
        if built.returncode != 0:
            return None
        listed = subprocess.run([size, "-A", str(obj)], capture_output=True, text=True, check=True).stdout
    return sum(int(m.group(1)) for m in re.finditer(r"^\.text\S*\s+(\d+)", listed, re.M))
