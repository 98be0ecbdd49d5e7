"""fdt-shadow-arena: a shadow-memory check of the planned arena, for
debugging (`--shadow-check`; never in the product's C).

Runs on the final loops (after MICROKERNELS, before EMITC), so it checks
what actually runs. Every byte of the arena carries a tag: the buffer whose
value it holds. The pass trusts neither the planner nor the liveness
analysis; it only uses the `fdt.buffer` offsets that the C uses too:

- `memref.load` of an arena buffer checks, before it runs, that each byte
  of the element is tagged with that buffer; `memref.store` retags them;
- a microkernel call (`UKERNELS`) checks the ranges it reads before it
  runs and retags the ranges it writes after it; an arena buffer passed to
  any other call, or used by any other op, is an error of the pass;
- an invoke starts with every byte untagged but the model inputs' (the
  caller writes them), and ends by checking that each output holds its own
  value.

The runtime (tag array, buffer tables, the check and retag function, the
first error's message) is C text at the top of the module, prefixed with
the model's name; `M_shadow_error()` returns the first error of the last
invoke ("" when none): the buffer expected, the buffer whose value was
found (or none), the arena byte and the operator (the access's location).
"""

from mlir import ir
from mlir.dialects import emitc

from ..analysis.kernels import location_name
from ..analysis.sizes import byte_size, element_count
from ..dialect import ops as fdt
from ..errors import FdtError
from ..rewrites.ukernel_calls import as_emitc
from . import register

# What each microkernel reads and writes of its array arguments (see its C
# in fdt_mlir/ukernels): (argument, "r" or "rw", base, row, rows, col, cols,
# width), the elements base + r * row + q * col + i for r < rows, q < cols,
# i < width. An int is a constant, "aK" the call's argument K. Array
# arguments not listed (none today) make the pass fail.
UKERNELS = {
    # fdt_dot_s8(acc, a, a_base, b, b_base, n, a_offset, b_offset): acc by value.
    "fdt_dot_s8": [(1, "r", "a2", 0, 1, 0, 1, "a5"), (3, "r", "a4", 0, 1, 0, 1, "a5")],
    "fdt_dot_f32": [(1, "r", "a2", 0, 1, 0, 1, "a5"), (3, "r", "a4", 0, 1, 0, 1, "a5")],
    # fdt_dot2_*(acc, a, a_base, a_row, b, b_base, b_row, b_channel, rows, n, ...)
    "fdt_dot2_s8": [
        (0, "rw", 0, 0, 1, 0, 1, 2),
        (1, "r", "a2", "a3", "a8", 0, 1, "a9"),
        (4, "r", "a5", "a6", "a8", "a7", 2, "a9"),
    ],
    "fdt_dot2_f32": [
        (0, "rw", 0, 0, 1, 0, 1, 2),
        (1, "r", "a2", "a3", "a8", 0, 1, "a9"),
        (4, "r", "a5", "a6", "a8", "a7", 2, "a9"),
    ],
    # fdt_window4_*(acc, a, a_base, a_row, a_col, b, b_base, b_row, b_col, rows, cols, ...)
    "fdt_window4_s8": [
        (0, "rw", 0, 0, 1, 0, 1, 4),
        (1, "r", "a2", "a3", "a9", "a4", "a10", 4),
        (5, "r", "a6", "a7", "a9", "a8", "a10", 4),
    ],
    "fdt_window4_f32": [
        (0, "rw", 0, 0, 1, 0, 1, 4),
        (1, "r", "a2", "a3", "a9", "a4", "a10", 4),
        (5, "r", "a6", "a7", "a9", "a8", "a10", 4),
    ],
    # fdt_apply_scale(value, multiplier, shift, double_round): scalars only.
    "fdt_apply_scale": [],
}

_CAST = "builtin.unrealized_conversion_cast"

RUNTIME = r"""/* Shadow check of the arena (fdt-mlir --shadow-check, a debugging aid): each
 * arena byte is tagged with the buffer whose value it holds. */
#include <stdio.h>
#define M_NONE 0xFFFFu
static uint16_t M_tags[ARENA];
static const uint32_t M_offsets[] = { OFFSETS };
static const uint32_t M_counts[] = { COUNTS };
static const uint8_t M_widths[] = { WIDTHS };
static const uint8_t M_kinds[] = { KINDS };
static const char *const M_names[] = { NAMES };
static const char *const M_sites[] = { SITES };
static char M_message[600];
static int M_failed;
const char *NAME_shadow_error(void);
const char *NAME_shadow_error(void) { return M_failed ? M_message : ""; }
static const char *M_holder(uint32_t byte)
{
  return M_tags[byte] == M_NONE ? "no buffer (never written this invoke)" : M_names[M_tags[byte]];
}
static void M_begin(void)
{
  M_failed = 0;
  M_message[0] = 0;
  for (uint32_t i = 0; i < ARENA; i++) M_tags[i] = M_NONE;
  for (uint32_t b = 0; b < BUFFERS; b++)
    if (M_kinds[b] == 1)
      for (uint32_t i = 0; i < M_counts[b] * M_widths[b]; i++) M_tags[M_offsets[b] + i] = (uint16_t)b;
}
static void M_access(int write, uint32_t b, size_t base, size_t row, size_t rows, size_t col, size_t cols,
                     size_t width, uint32_t site)
{
  if (M_failed) return;
  for (size_t r = 0; r < rows; r++)
    for (size_t q = 0; q < cols; q++)
      for (size_t i = 0; i < width; i++) {
        size_t e = base + r * row + q * col + i;
        if (e >= M_counts[b]) {
          M_failed = 1;
          snprintf(M_message, sizeof M_message, "%s: %s element %zu of %s, outside its %u elements", M_sites[site],
                   write ? "writing" : "reading", e, M_names[b], (unsigned)M_counts[b]);
          return;
        }
        for (uint32_t k = 0; k < M_widths[b]; k++) {
          uint32_t byte = M_offsets[b] + (uint32_t)e * M_widths[b] + k;
          if (write) {
            M_tags[byte] = (uint16_t)b;
          } else if (M_tags[byte] != b) {
            M_failed = 1;
            snprintf(M_message, sizeof M_message,
                     "%s: reading %s[%zu] (arena byte %u) expects %s's value, finds %s's", M_sites[site],
                     M_names[b], e, (unsigned)byte, M_names[b], M_holder(byte));
            return;
          }
        }
      }
}
static void M_end(void)
{
  for (uint32_t b = 0; b < BUFFERS && !M_failed; b++)
    if (M_kinds[b] == 2) M_access(0, b, 0, 0, 1, 0, 1, M_counts[b], 0);
}
"""


def _c_string(text: str) -> str:
    text = text.replace('"', "'").replace("\\", "/")
    safe = "".join(c if c.isascii() and c.isprintable() else "?" for c in text)
    return f'"{safe}"'


def _call(name: str, args: list):
    """`name`(args) with no result: an int in `args` is a literal, a Value
    one of the operands."""
    values, attrs = [], []
    i32, index = ir.IntegerType.get_signless(32), ir.IndexType.get()
    for a in args:
        if isinstance(a, int):
            attrs.append(ir.IntegerAttr.get(i32, a))
        else:
            attrs.append(ir.IntegerAttr.get(index, len(values)))
            values.append(a)
    return emitc.CallOpaqueOp([], name, values, args=ir.ArrayAttr.get(attrs))


class _Instrumenter:
    def __init__(self, prefix: str):
        self.prefix = prefix
        self.sites = ["the end of the invoke (model outputs)"]

    def site(self, op, what: str) -> int:
        self.sites.append(f"{location_name(op) or str(op.location)}: {what}")
        return len(self.sites) - 1

    def access(self, write: bool, buffer_id: int, extent: list, site: int):
        _call(f"{self.prefix}_access", [int(write), buffer_id, *extent, site])

    def load_store(self, op, buffer_id: int, memref_position: int):
        indices = list(op.operands)[memref_position + 1 :]
        if len(indices) > 1:
            raise FdtError(f"fdt-shadow-arena: {op.name} of a {len(indices)}-d arena buffer (flat ones expected)")
        write = op.name == "memref.store"
        site = self.site(op, "store" if write else "load")
        point = ir.InsertionPoint.after(op) if write else ir.InsertionPoint(op)
        with point, op.location:
            # A 0-d buffer has one element, at index 0.
            index = as_emitc(indices[0]) if indices else 0
            self.access(write, buffer_id, [index, 0, 1, 0, 1, 1], site)

    def ukernel_call(self, call, position: int, buffer_id: int):
        callee = ir.StringAttr(call.attributes["callee"]).value
        specs = [s for s in UKERNELS.get(callee, []) if s[0] == position]
        if not specs:
            raise FdtError(f"fdt-shadow-arena: unknown access of {callee} to its argument {position}, an arena buffer")
        _, mode, *extent = specs[0]
        operands = list(call.operands)
        extent = [operands[int(e[1:])] if isinstance(e, str) else e for e in extent]
        site = self.site(call, f"{callee} argument {position}")
        with ir.InsertionPoint(call), call.location:
            self.access(False, buffer_id, extent, site)
        if mode == "rw":
            with ir.InsertionPoint.after(call), call.location:
                self.access(True, buffer_id, extent, site)


def _instrument(fn: ir.Operation) -> str:
    name = ir.StringAttr(fn.attributes["sym_name"]).value
    prefix = f"{name}_shadow"
    block = fn.regions[0].blocks[0]
    ops = [op.operation for op in block.operations]
    arena = fdt.arena(ops[0])
    buffers = [op for op in ops if fdt.is_buffer(op)]
    if len(buffers) >= 0xFFFF:
        raise FdtError("fdt-shadow-arena: too many buffers for 16-bit tags")
    inst = _Instrumenter(prefix)
    for buffer_id, op in enumerate(buffers):
        value = op.results[0]
        for use in list(value.uses):
            user = use.owner
            if user.name == "memref.load" and use.operand_number == 0:
                inst.load_store(user, buffer_id, 0)
            elif user.name == "memref.store" and use.operand_number == 1:
                inst.load_store(user, buffer_id, 1)
            elif user.name == _CAST:
                for cast_use in list(user.results[0].uses):
                    call = cast_use.owner
                    if call.name != "emitc.call_opaque":
                        raise FdtError(f"fdt-shadow-arena: an arena buffer reaches {call.name}")
                    inst.ukernel_call(call, cast_use.operand_number, buffer_id)
            else:
                raise FdtError(f"fdt-shadow-arena: unchecked access of {fdt.buffer(op).name} by {user.name}")
    first = next(op for op in ops if not fdt.is_fdt_op(op))
    with ir.InsertionPoint(first), fn.location:
        _call(f"{prefix}_begin", [])
    ret = ops[-1]
    with ir.InsertionPoint(ret), ret.location:
        _call(f"{prefix}_end", [])

    placed = [fdt.buffer(op) for op in buffers]
    types = [op.results[0].type for op in buffers]
    counts = [element_count(t) for t in types]
    widths = [byte_size(t) // max(c, 1) for t, c in zip(types, counts)]
    kinds = [1 if b.name.startswith("input") else 2 if b.name.startswith("output") else 0 for b in placed]
    text = RUNTIME.replace("M_", f"{prefix}_").replace("NAME_", f"{name}_")
    text = text.replace("ARENA", str(max(arena.size, 1))).replace("BUFFERS", str(len(buffers)))
    # The tables last: names and sites are the model's text.
    for key, items in (
        ("OFFSETS", [str(b.offset) for b in placed]),
        ("COUNTS", [str(c) for c in counts]),
        ("WIDTHS", [str(w) for w in widths]),
        ("KINDS", [str(k) for k in kinds]),
        ("NAMES", [_c_string(b.name) for b in placed]),
        ("SITES", [_c_string(s) for s in inst.sites]),
    ):
        text = text.replace(f"{{ {key} }}", "{ " + ", ".join(items or ["0"]) + " }", 1)
    return text


@register("fdt-shadow-arena", "Check every arena access against a shadow tag per byte (debugging; --shadow-check)")
def shadow_arena(module_op: ir.Operation):
    body = module_op.regions[0].blocks[0]
    for fn in fdt.planned_functions(module_op):
        text = _instrument(fn)
        with ir.InsertionPoint(body.operations[0]), ir.Location.unknown():
            emitc.VerbatimOp(text, [])
