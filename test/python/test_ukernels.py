"""The microkernels against numpy: their portable C path (built for this
machine) and their DSP path (built for a Cortex-M4 and run in the emulator)
give the exact wrapped 32-bit sums of the loops they replace. fdt_dot_s8:
every run length around its 4- and 8-byte steps; fdt_dot2_s8: 0 to 3 rows
of such runs for two channels; fdt_window4_s8: windows of 0 to 3 x 3 taps
with channel, column and row strides; all with zero and nonzero offsets on
both operands, and accumulators that wrap. The float32 ones, on the same
cases without offsets, give bit for bit the float32 sums added in the
loops' order (numpy rounding each product and each sum to float32).
fdt_apply_scale gives TOSA's apply_scale for every shift it allows."""

from dataclasses import dataclass

import numpy as np
import pytest

from fdt_mlir.evaluation import cortex_m
from fdt_mlir.ukernels import source, with_requirements

OFFSETS = [(0, 0), (128, 0), (-87, 0), (87, -3), (-127, 128), (255, -255)]
SIZE = 200  # elements of each operand array


@dataclass
class Case:
    acc: list  # initial accumulators, one per channel
    a_base: int
    a_row: int
    b_base: int
    b_row: int
    b_channel: int  # how far the next channel's b starts
    a_channel: int  # and its a (0: shared)
    rows: int
    length: int  # elements per row (fdt_dot_s8, fdt_dot2_s8) or taps per row (fdt_window4_s8)
    step: int  # distance between a row's elements or taps
    a_offset: int
    b_offset: int


def _wrap(total: int) -> int:
    return (total + 2**31) % 2**32 - 2**31


def _accumulators(rng, count):
    return [int(rng.choice([0, 2**31 - 5, -(2**31) + 3, int(rng.integers(-(2**20), 2**20))])) for _ in range(count)]


def _expected(a, b, cases) -> bytes:
    """Each case's sums, channel by channel, from its loops' definition:
    wrapped int32 for int8 operands, float32 steps for float32 ones."""
    floats = a.dtype == np.float32
    sums = []
    for c in cases:
        for k, acc in enumerate(c.acc):
            total = np.float32(acc) if floats else acc
            for r in range(c.rows):
                for i in range(c.length):
                    x = a[c.a_base + k * c.a_channel + r * c.a_row + i * c.step]
                    y = b[c.b_base + k * c.b_channel + r * c.b_row + i * c.step]
                    if floats:
                        total = np.float32(total + np.float32(x * y))
                    else:
                        total += int((x + c.a_offset) * (y + c.b_offset))
            sums.append(total if floats else _wrap(total))
    return np.array(sums, dtype="<f4" if floats else "<i4").tobytes()


# How each microkernel is called on Case c (its fields as C expressions c[0] ...).
CALLS = {
    "dot_s8": "out[0] = fdt_dot_s8(out[0], fdt_a, A_BASE, fdt_b, B_BASE, LENGTH, A_OFFSET, B_OFFSET)",
    "dot2_s8": "fdt_dot2_s8(out, fdt_a, A_BASE, A_ROW, fdt_b, B_BASE, B_ROW, B_CHANNEL, ROWS, LENGTH,"
    " A_OFFSET, B_OFFSET)",
    "window4_s8": "fdt_window4_s8(out, fdt_a, A_BASE, A_ROW, STEP, fdt_b, B_BASE, B_ROW, STEP, ROWS, LENGTH,"
    " A_OFFSET, B_OFFSET)",
    "dot_f32": "out[0] = fdt_dot_f32(out[0], fdt_a, A_BASE, fdt_b, B_BASE, LENGTH)",
    "dot2_f32": "fdt_dot2_f32(out, fdt_a, A_BASE, A_ROW, fdt_b, B_BASE, B_ROW, B_CHANNEL, ROWS, LENGTH)",
    "window4_f32": "fdt_window4_f32(out, fdt_a, A_BASE, A_ROW, STEP, fdt_b, B_BASE, B_ROW, STEP, ROWS, LENGTH)",
}
FIELDS = ["a_base", "a_row", "b_base", "b_row", "b_channel", "rows", "length", "step", "a_offset", "b_offset"]


def _program(ukernel, a, b, cases) -> str:
    """A program that calls `ukernel` on every case and leaves the sums in
    fdt_output0, for the host and the emulator alike."""
    channels = len(cases[0].acc)
    element, accumulator = ("float", "float") if ukernel.endswith("f32") else ("int8_t", "int32_t")
    table = ",\n".join("  {" + ", ".join(str(getattr(c, f)) for f in FIELDS) + "}" for c in cases)
    call = CALLS[ukernel]
    for i, field in enumerate(FIELDS):
        cast = "" if field.endswith("offset") else "(size_t)"
        call = call.replace(field.upper(), f"{cast}c[{i}]")
    return (
        "#include <stddef.h>\n#include <stdint.h>\n#include <string.h>\n"
        + "".join(source(name) for name in with_requirements(ukernel))
        + f"static const {element} fdt_a[{SIZE}] = {{{_c_values(a)}}};\n"
        + f"static const {element} fdt_b[{SIZE}] = {{{_c_values(b)}}};\n"
        + f"static const int32_t fdt_cases[{len(cases)}][{len(FIELDS)}] = {{\n{table}}};\n"
        + f"{accumulator} fdt_output0[{channels * len(cases)}] = {{{_c_values([v for c in cases for v in c.acc])}}};\n"
        + "void fdt_layer(int layer);\n"
        + "void fdt_model_invoke(void) {\n  fdt_layer(0);\n"
        + f"  for (int i = 0; i < {len(cases)}; i++) {{\n"
        + f"    const int32_t *c = fdt_cases[i];\n    {accumulator} *out = fdt_output0 + {channels} * i;\n"
        + f"    {call};\n  }}\n  fdt_layer(-1);\n}}\n"
    )


def _c_values(values) -> str:
    """C initializers: integers as they are, float32 values exactly (%a)."""
    return ", ".join(float(v).hex() + "f" if isinstance(v, np.floating | float) else str(v) for v in values)


def _cases(ukernel):
    """(a, b, cases) for `ukernel`. int8: the extremes (-128) at the start
    of both arrays, where an overflowing 16-bit lane would show; float32:
    values in [-1, 1) and no offsets."""
    rng = np.random.default_rng(7)
    if ukernel.endswith("f32"):
        a, b = (rng.uniform(-1, 1, SIZE).astype(np.float32) for _ in range(2))
    else:
        a = rng.integers(-128, 128, SIZE, dtype=np.int64)
        b = rng.integers(-128, 128, SIZE, dtype=np.int64)
        a[:8], b[:8] = -128, -128
    cases = []
    for a_offset, b_offset in OFFSETS if ukernel.endswith("s8") else [(0, 0)]:
        if ukernel.startswith("dot_"):
            for n in [0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 31, 64, 67]:
                bases = [int(rng.integers(0, SIZE - n + 1)) for _ in range(2)]
                cases.append(Case(_accumulators(rng, 1), bases[0], 0, bases[1], 0, 0, 0, 1, n, 1, a_offset, b_offset))
        elif ukernel.startswith("dot2_"):
            # Rows 20 apart in a, 24 in b; the second channel's b 72 further.
            for rows, n in [(0, 4), (1, 0), (1, 3), (1, 8), (2, 5), (3, 12), (1, 17)]:
                bases = [int(rng.integers(0, 4)) for _ in range(2)]
                acc = _accumulators(rng, 2)
                cases.append(Case(acc, bases[0], 20, bases[1], 24, 72, 0, rows, n, 1, a_offset, b_offset))
        else:
            # NHWC-like: 8 channels in rows of 5 pixels for a, 6 channels of 3 taps for b.
            for rows, taps in [(0, 3), (1, 1), (1, 3), (3, 3), (2, 1), (3, 2)]:
                bases = [int(rng.integers(0, 4)) for _ in range(2)]
                acc = _accumulators(rng, 4)
                cases.append(Case(acc, bases[0], 40, bases[1], 18, 1, 1, rows, taps, 8, a_offset, b_offset))
    if ukernel.endswith("f32"):
        for case in cases:
            case.acc = [np.float32(rng.uniform(-4, 4)) for _ in case.acc]
    if ukernel.startswith("window4_"):
        # One step serves both operands in the harness: b's taps 8 apart too.
        for case in cases:
            case.b_row = 24
    return a, b, cases


@pytest.mark.parametrize("ukernel", sorted(CALLS))
def test_portable_path_is_exact(ukernel, tmp_path):
    a, b, cases = _cases(ukernel)
    (tmp_path / "kernel.c").write_text(_program(ukernel, a, b, cases))
    size = 4 * len(cases[0].acc) * len(cases)
    (host,) = cortex_m.host_outputs([tmp_path / "kernel.c"], [tmp_path], tmp_path / "host", [size])
    assert host == _expected(a, b, cases)


@pytest.mark.parametrize("ukernel", sorted(CALLS))
def test_m4_build_is_exact_on_the_emulator(ukernel, arm_toolchain, tmp_path):
    a, b, cases = _cases(ukernel)
    (tmp_path / "kernel.c").write_text(_program(ukernel, a, b, cases))
    size = 4 * len(cases[0].acc) * len(cases)
    run = cortex_m.run(cortex_m.build([tmp_path / "kernel.c"], [tmp_path], tmp_path / "m4"), [size])
    assert run.outputs == [_expected(a, b, cases)]
    if ukernel.endswith("s8"):
        # The DSP path ran: dual MACs (SMLAD) or 16x16 MACs (SMLABB, SMLATT);
        # mix indices per cortex_m4_cycles.CLASSES.
        assert run.layers[0].mix[3 if ukernel.startswith("dot") else 2] > 0


def _apply_scale_cases():
    """(value, multiplier, shift, double_round) over every shift TOSA allows,
    the extreme values and multipliers among them."""
    rng = np.random.default_rng(17)
    cases = []
    for shift in range(2, 63):
        for double_round in (0, 1):
            for value in (-(2**31), 2**31 - 1, -1, 0, 1, int(rng.integers(-(2**31), 2**31))):
                for multiplier in (0, 2**31 - 1, 2**30, int(rng.integers(0, 2**31))):
                    cases.append((value, multiplier, shift, double_round))
    return cases


def _apply_scale_expected(cases) -> bytes:
    """TOSA 1.0's apply_scale_32, in Python integers, truncated to int32."""
    results = []
    for value, multiplier, shift, double_round in cases:
        round_ = 1 << (shift - 1)
        if double_round and shift > 31:
            round_ += (1 << 30) if value >= 0 else -(1 << 30)
        results.append(_wrap((value * multiplier + round_) >> shift))
    return np.array(results, dtype="<i4").tobytes()


def _apply_scale_program(cases) -> str:
    table = ",\n".join("  {" + ", ".join(f"{v}" if v != -(2**31) else "INT32_MIN" for v in c) + "}" for c in cases)
    return (
        "#include <stddef.h>\n#include <stdint.h>\n#include <string.h>\n"
        + source("apply_scale")
        + f"static const int32_t fdt_cases[{len(cases)}][4] = {{\n{table}}};\n"
        + f"int32_t fdt_output0[{len(cases)}];\n"
        + "void fdt_layer(int layer);\n"
        + "void fdt_model_invoke(void) {\n  fdt_layer(0);\n"
        + f"  for (int i = 0; i < {len(cases)}; i++)\n"
        + "    fdt_output0[i] = fdt_apply_scale(fdt_cases[i][0], fdt_cases[i][1], fdt_cases[i][2], fdt_cases[i][3]);\n"
        + "  fdt_layer(-1);\n}\n"
    )


def test_apply_scale_is_tosas_on_the_host_and_the_emulated_m4(arm_toolchain, tmp_path):
    cases = _apply_scale_cases()
    (tmp_path / "scale.c").write_text(_apply_scale_program(cases))
    expected = _apply_scale_expected(cases)
    (host,) = cortex_m.host_outputs([tmp_path / "scale.c"], [tmp_path], tmp_path / "host", [4 * len(cases)])
    assert host == expected
    run = cortex_m.run(cortex_m.build([tmp_path / "scale.c"], [tmp_path], tmp_path / "m4"), [4 * len(cases)])
    assert run.outputs == [expected]
