"""Builds C for a Cortex-M4 and runs it in an instruction-level emulator.

A program is C sources around `void fdt_model_invoke(void)`, which runs the
model once on inputs compiled into it (`fdt_input0`, ...) and copies its
outputs to `fdt_output0`, ... It calls `fdt_layer(k)` where operator k
starts and `fdt_layer(-1)` after the last. The start-up code here copies
`.data`, zeroes `.bss`, calls `fdt_model_invoke` and stops in `fdt_stop`.

It is built with Debian's `arm-none-eabi-gcc` (`-mcpu=cortex-m4 -mthumb
-mfloat-abi=soft -O2`, newlib, flash at 0x08000000, RAM at 0x20000000) and
run in unicorn (a Cortex-M4 CPU model). A block hook counts what runs,
decoded once per block with capstone and priced by `cortex_m4_cycles`, and
`fdt_layer` splits the counts by layer. The stack is painted before the run,
so its deepest use is measured exactly.
"""

import importlib.util
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..emit.c import CFLAGS as HOST_CFLAGS
from ..emit.c import CORTEX_M4_CFLAGS as CFLAGS
from ..errors import FdtError

GCC = "arm-none-eabi-gcc"
FLASH, FLASH_SIZE = 0x08000000, 8 << 20
RAM, RAM_SIZE = 0x20000000, 8 << 20  # the emulator's, not a chip's: programs report what they use
STACK_SIZE = 64 << 10
PAINT = 0xA5

_STARTUP = """\
#include <stdint.h>
#include <string.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
void fdt_model_invoke(void);

/* Where the profiler splits its counts: operator k starts (-1: the end). */
__attribute__((noinline)) void fdt_layer(int layer) { __asm__ volatile("" : : "r"(layer) : "memory"); }
__attribute__((noinline, noreturn)) void fdt_stop(void) { for (;;) __asm__ volatile(""); }

__attribute__((noreturn)) void fdt_reset(void) {
  memcpy(&_sdata, &_sidata, (size_t)((char *)&_edata - (char *)&_sdata));
  memset(&_sbss, 0, (size_t)((char *)&_ebss - (char *)&_sbss));
  fdt_model_invoke();
  fdt_stop();
}

__attribute__((section(".isr_vector"), used)) const void *const fdt_vectors[2] = {&_estack, (const void *)fdt_reset};
"""

_LINKER_SCRIPT = f"""\
MEMORY {{
  FLASH (rx) : ORIGIN = {FLASH:#x}, LENGTH = {FLASH_SIZE:#x}
  RAM (rwx) : ORIGIN = {RAM:#x}, LENGTH = {RAM_SIZE:#x}
}}
ENTRY(fdt_reset)
_estack = ORIGIN(RAM) + LENGTH(RAM);
SECTIONS {{
  .isr_vector : {{ KEEP(*(.isr_vector)) }} > FLASH
  .text : {{ *(.text*) }} > FLASH
  .rodata : {{ *(.rodata*) }} > FLASH
  .ARM.exidx : {{ *(.ARM.exidx*) }} > FLASH
  _sidata = LOADADDR(.data);
  .data : {{ _sdata = .; *(.data*) _edata = .; }} > RAM AT> FLASH
  .bss (NOLOAD) : {{ _sbss = .; *(.bss*) *(COMMON) _ebss = .; }} > RAM
}}
"""


def toolchain() -> str:
    """The cross compiler, or a one-line error saying how to get it."""
    gcc = shutil.which(GCC)
    if gcc is None:
        raise FdtError(f"{GCC} not found: install Debian's gcc-arm-none-eabi (apt-get install gcc-arm-none-eabi)")
    return gcc


def require_emulator():
    """Says in one line, before any work, that the `cortex-m` extra is missing."""
    missing = [m for m in ("unicorn", "capstone", "elftools") if importlib.util.find_spec(m) is None]
    if missing:
        raise FdtError(f"the emulator needs {', '.join(missing)}: pip install 'fdt-mlir[cortex-m]'")


def _compile(sources, include_dirs, outdir: Path) -> list[Path]:
    """One object per source, compiled on every core; named after the
    source's folder and stem, so that equal stems do not collide."""
    gcc = toolchain()
    objects = [outdir / f"{Path(s).parent.name}_{Path(s).stem}.o" for s in sources]

    def one(source, obj):
        command = [gcc, *CFLAGS, *(f"-I{d}" for d in include_dirs), "-c", str(source), "-o", str(obj)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise FdtError(f"{GCC} cannot compile {source}: {(done.stderr.strip().splitlines() or ['?'])[0]}")

    with ThreadPoolExecutor(os.cpu_count()) as pool:
        list(pool.map(one, sources, objects))
    return objects


def build_library(sources, include_dirs, outdir) -> Path:
    """Compiles `sources` into a static library (CMSIS-NN)."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    objects = _compile(sources, include_dirs, outdir)
    library = outdir / "lib.a"
    library.unlink(missing_ok=True)
    archiver = str(Path(toolchain()).with_name("arm-none-eabi-ar"))
    subprocess.run([archiver, "rcs", str(library), *map(str, objects)], check=True, capture_output=True)
    return library


def build(sources, include_dirs, outdir, libraries=()) -> Path:
    """Links `sources` (and static `libraries`) with the start-up code into
    `outdir/program.elf`."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "fdt_startup.c").write_text(_STARTUP)
    (outdir / "program.ld").write_text(_LINKER_SCRIPT)
    objects = _compile([*sources, outdir / "fdt_startup.c"], include_dirs, outdir)
    elf = outdir / "program.elf"
    command = [toolchain(), *CFLAGS, "-nostartfiles", "-T", str(outdir / "program.ld"), "-Wl,--gc-sections"]
    command += ["-o", str(elf), *map(str, objects), *map(str, libraries)]
    command += ["-Wl,--start-group", "-lc", "-lm", "-lgcc", "-Wl,--end-group"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise FdtError(f"{GCC} cannot link {elf}: {(done.stderr.strip().splitlines() or ['?'])[0]}")
    return elf


@dataclass
class Counts:
    instructions: int = 0
    cycles: int = 0
    mix: list = field(default_factory=lambda: [0] * 6)  # per cortex_m4_cycles.CLASSES


@dataclass
class Run:
    """One run of a program: counts per layer (-1 before the first mark and
    after the last), the outputs, and the memory it used."""

    layers: dict  # operator index -> Counts, in the order they ran
    outputs: list  # bytes of fdt_output0, ...
    words: dict  # name -> value of the int32 globals asked for
    sections: dict  # name -> bytes: text, rodata, data, bss
    stack: int  # deepest stack use, bytes

    @property
    def model(self) -> Counts:
        """The layers' counts together, without the harness around them."""
        total = Counts()
        for layer, counts in self.layers.items():
            if layer >= 0:
                total.instructions += counts.instructions
                total.cycles += counts.cycles
                total.mix = [a + b for a, b in zip(total.mix, counts.mix)]
        return total


def run(elf, output_bytes: list[int], words=()) -> Run:
    """Runs the program to fdt_stop and reads `fdt_outputK` (of the given
    sizes) and the int32 globals named in `words`."""
    from elftools.elf.elffile import ELFFile
    from unicorn import UC_ARCH_ARM, UC_HOOK_BLOCK, UC_HOOK_CODE, UC_MODE_MCLASS, UC_MODE_THUMB, Uc, UcError
    from unicorn.arm_const import UC_ARM_REG_R0, UC_ARM_REG_SP, UC_CPU_ARM_CORTEX_M4

    from .cortex_m4_cycles import PIPELINE_REFILL, Decoder

    with open(elf, "rb") as f:
        image = ELFFile(f)
        symbols = {s.name: s["st_value"] for s in image.get_section_by_name(".symtab").iter_symbols()}
        segments = [(seg["p_paddr"], seg.data()) for seg in image.iter_segments() if seg["p_type"] == "PT_LOAD"]
        sections = {
            name: sum(s["sh_size"] for s in image.iter_sections() if s.name.startswith(f".{name}"))
            for name in ("text", "rodata", "data", "bss")
        }
    uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
    uc.ctl_set_cpu_model(UC_CPU_ARM_CORTEX_M4)
    uc.mem_map(FLASH, FLASH_SIZE)
    uc.mem_map(RAM, RAM_SIZE)
    for address, data in segments:
        uc.mem_write(address, data)
    stack_top = RAM + RAM_SIZE
    uc.mem_write(stack_top - STACK_SIZE, bytes([PAINT]) * STACK_SIZE)

    decoder = Decoder()
    blocks: dict = {}
    layers: dict = {-1: Counts()}
    state = {"layer": -1, "previous": None}

    def on_block(uc, address, size, _):
        key = (address, size)
        block = blocks.get(key)
        if block is None:
            block = blocks[key] = decoder.block(bytes(uc.mem_read(address, size)), address)
        previous = state["previous"]
        counts = layers[state["layer"]]
        if previous is not None and previous.ends_in_branch and address != previous.fallthrough:
            counts.cycles += PIPELINE_REFILL
        counts.instructions += block.instructions
        counts.cycles += block.cycles
        mix = counts.mix
        for i, n in enumerate(block.mix):
            mix[i] += n
        state["previous"] = block

    def on_layer(uc, address, size, _):
        layer = int.from_bytes(uc.reg_read(UC_ARM_REG_R0).to_bytes(4, "little"), "little", signed=True)
        state["layer"] = layer
        layers.setdefault(layer, Counts())

    marker = symbols["fdt_layer"] & ~1
    uc.hook_add(UC_HOOK_BLOCK, on_block)
    uc.hook_add(UC_HOOK_CODE, on_layer, begin=marker, end=marker)
    vectors = uc.mem_read(FLASH, 8)
    uc.reg_write(UC_ARM_REG_SP, int.from_bytes(vectors[:4], "little"))
    try:
        uc.emu_start(int.from_bytes(vectors[4:], "little") | 1, symbols["fdt_stop"] & ~1)
    except UcError as e:
        raise FdtError(f"the emulator stopped on {elf}: {e}") from None
    painted = bytes(uc.mem_read(stack_top - STACK_SIZE, STACK_SIZE))
    untouched = len(painted) - len(painted.lstrip(bytes([PAINT])))
    outputs = [bytes(uc.mem_read(symbols[f"fdt_output{k}"], n)) for k, n in enumerate(output_bytes)]
    values = {w: int.from_bytes(uc.mem_read(symbols[w], 4), "little", signed=True) for w in words}
    return Run(layers, outputs, values, sections, STACK_SIZE - untouched)


def host_outputs(sources, include_dirs, outdir, output_bytes: list[int], libraries=()) -> list[bytes]:
    """Builds the same program for this machine (gcc) and returns its outputs,
    for comparison with the emulated run."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    main = outdir / "host_main.c"
    prints = "".join(
        f'  for (int i = 0; i < {n}; i++) printf("%02x", ((unsigned char *)fdt_output{k})[i]);\n  printf("\\n");\n'
        for k, n in enumerate(output_bytes)
    )
    declarations = "".join(f"extern unsigned char fdt_output{k}[];\n" for k in range(len(output_bytes)))
    main.write_text(
        "#include <stdio.h>\n"
        "void fdt_model_invoke(void);\n"
        "void fdt_layer(int layer) { (void)layer; }\n"
        f"{declarations}"
        f"int main(void) {{\n  fdt_model_invoke();\n{prints}  return 0;\n}}\n"
    )
    binary = outdir / "host"
    command = ["gcc", *HOST_CFLAGS, *(f"-I{d}" for d in include_dirs), "-o", str(binary)]
    command += [*map(str, sources), str(main), *map(str, libraries), "-lm"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise FdtError(f"gcc cannot build the host program: {(done.stderr.strip().splitlines() or ['?'])[0]}")
    printed = subprocess.run([str(binary)], capture_output=True, text=True, check=True).stdout.split()
    return [bytes.fromhex(line) for line in printed]
