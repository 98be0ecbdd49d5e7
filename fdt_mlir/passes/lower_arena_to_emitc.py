"""fdt-lower-arena-to-emitc: turn the planned arena into C storage and API.

Upstream convert-memref-to-emitc cannot express a typed buffer at a byte
offset of another buffer (memref.view, reinterpret_cast). So the planned
function becomes a private kernel that takes every arena buffer as a
parameter (plain C arrays, lowered by the upstream conversions), and small
EmitC functions provide the model's C API over one aligned arena:
`M_invoke_with(arena)` passes each buffer as `arena + offset`, `M_invoke`
runs it on the static arena `M_arena`, `M_inputK`/`M_outputK` return
pointers into that, `M_run` copies in, invokes and copies out, and
`M_reset` restarts the recurrent state (the globals of
fdt-state-to-globals, outside the arena).
"""

from mlir import ir

from ..analysis.sizes import byte_size, state_globals
from ..c_types import C_TYPES
from ..dialect import ops as fdt
from . import register

HEADERS = ["math.h", "stdbool.h", "stddef.h", "stdint.h", "string.h"]


def _api(name, arena_size, alignment, buffers, params, states) -> str:
    """EmitC text of the arena and the model's C API; `params` are the
    names of the buffers the kernel takes, in order, `states` the (symbol,
    bytes, start byte) of the state globals. `M_invoke_with` runs on an
    arena the application supplies; the static arena and what uses it are
    left out when M.c is built with `-DM_EXTERNAL_ARENA`, and
    `M_ARENA_ATTRIBUTES` (M.h) places or aligns it."""
    static = f"#ifndef {name}_EXTERNAL_ARENA"
    lines = [
        f'emitc.verbatim "{static}"',
        f'emitc.verbatim "static {name}_ARENA_ATTRIBUTES _Alignas({alignment}) uint8_t {name}_arena[{arena_size}];"',
        'emitc.verbatim "#endif"',
    ]

    def at(offset, ptr_type, var, base=None):
        found = []
        if base is None:
            base = f"%base{var}"
            found.append(f'  {base} = emitc.literal "{name}_arena" : !emitc.ptr<ui8>')
        return found + [
            f'  %off{var} = "emitc.constant"() {{value = {offset} : i32}} : () -> i32',
            f"  %addr{var} = emitc.add {base}, %off{var} : (!emitc.ptr<ui8>, i32) -> !emitc.ptr<ui8>",
            f"  %{var} = emitc.cast %addr{var} : !emitc.ptr<ui8> to {ptr_type}",
        ]

    void_ptr = '!emitc.ptr<!emitc.opaque<"void">>'
    body, args = [], []
    offsets = {bname: offset for bname, offset, _, _ in buffers}
    for i, bname in enumerate(params):
        body += at(offsets[bname], void_ptr, f"b{i}", "%arena")
        args.append(f"%b{i}")
    lines += [f"emitc.func @{name}_invoke_with(%arena: !emitc.ptr<ui8>) {{"] + body
    lines.append(
        f'  emitc.call_opaque "{name}_kernel"({", ".join(args)}) : ({", ".join([void_ptr] * len(args))}) -> ()'
    )
    lines += ["  emitc.return", "}"]

    lines += [f'emitc.verbatim "{static}"', f"emitc.func @{name}_invoke() {{"]
    lines.append(f'  %base = emitc.literal "{name}_arena" : !emitc.ptr<ui8>')
    lines += [f"  emitc.call @{name}_invoke_with(%base) : (!emitc.ptr<ui8>) -> ()", "  emitc.return", "}"]

    # fdt-plan-memory declares inputs, then outputs, each in index order.
    io = [b for b in buffers if b[0].startswith(("input", "output"))]
    for bname, offset, _, etype in io:
        ptr = f"!emitc.ptr<{etype}>"
        lines += [f"emitc.func @{name}_{bname}() -> {ptr} {{"] + at(offset, ptr, "p")
        lines += [f"  emitc.return %p : {ptr}", "}"]

    params, copy_in, copy_out = [], [], []
    for k, (bname, offset, memref_type, etype) in enumerate(io):
        ctype = C_TYPES[etype]
        size = byte_size(memref_type)
        if bname.startswith("input"):
            params.append((bname, f'!emitc.ptr<!emitc.opaque<"const {ctype}">>'))
            src, dst = f"%arg{k}", f"%a{k}"
            copy_in += at(offset, void_ptr, f"a{k}")
            copy_in.append(f'  %n{k} = emitc.literal "{size}" : !emitc.size_t')
            copy_in.append(
                f'  emitc.call_opaque "memcpy"({dst}, {src}, %n{k})'
                f' : ({void_ptr}, !emitc.ptr<!emitc.opaque<"const {ctype}">>, !emitc.size_t) -> ()'
            )
        else:
            params.append((bname, f"!emitc.ptr<{etype}>"))
            copy_out += at(offset, void_ptr, f"a{k}")
            copy_out.append(f'  %n{k} = emitc.literal "{size}" : !emitc.size_t')
            copy_out.append(
                f'  emitc.call_opaque "memcpy"(%arg{k}, %a{k}, %n{k})'
                f" : ({params[-1][1]}, {void_ptr}, !emitc.size_t) -> ()"
            )
    signature = ", ".join(f"%arg{k}: {t}" for k, (_, t) in enumerate(params))
    lines += [f"emitc.func @{name}_run({signature}) {{"] + copy_in
    lines.append(f"  emitc.call @{name}_invoke() : () -> ()")
    lines += copy_out + ["  emitc.return", "}", 'emitc.verbatim "#endif"']

    lines.append(f"emitc.func @{name}_reset() {{")
    for k, (symbol, size, start) in enumerate(states):
        lines += [
            f'  %s{k} = emitc.literal "{symbol}" : {void_ptr}',
            f'  %z{k} = "emitc.constant"() {{value = {start} : i32}} : () -> i32',
            f'  %n{k} = emitc.literal "{size}" : !emitc.size_t',
            f'  emitc.call_opaque "memset"(%s{k}, %z{k}, %n{k}) : ({void_ptr}, i32, !emitc.size_t) -> ()',
        ]
    lines += ["  emitc.return", "}"]
    return "\n".join(lines)


def _strip_global_alignment(module_op):
    # convert-memref-to-emitc silently skips globals that carry an alignment.
    for op in module_op.regions[0].blocks[0].operations:
        op = op.operation
        if op.name == "memref.global" and "alignment" in op.attributes:
            del op.attributes["alignment"]


@register(
    "fdt-lower-arena-to-emitc", "Turn fdt.arena/fdt.buffer into a C arena, a buffer-parameter kernel and the model API"
)
def lower_arena_to_emitc(module_op: ir.Operation):
    _strip_global_alignment(module_op)
    states = state_globals(module_op)
    # mlir-translate does not load the TOSA dialect; the target is long used.
    if "tosa.target_env" in module_op.attributes:
        del module_op.attributes["tosa.target_env"]
    for fn in fdt.planned_functions(module_op):
        name = ir.StringAttr(fn.attributes["sym_name"]).value
        block = fn.regions[0].blocks[0]
        ops = [op.operation for op in block.operations]
        arena = ops[0]
        buffers, params = [], []
        for op in ops[1:]:
            if not fdt.is_buffer(op):
                continue
            value = op.results[0]
            placed = fdt.buffer(op)
            buffers.append((placed.name, placed.offset, value.type, fdt.element_type(op)))
            if list(value.uses):  # a model input nothing reads (ZEROS_LIKE's) is no parameter
                value.replace_all_uses_with(block.add_argument(value.type, op.location))
                params.append(placed.name)
            op.erase()
        planned = fdt.arena(arena)
        arena.erase()
        fn.attributes["sym_name"] = ir.StringAttr.get(f"{name}_kernel")
        fn.attributes["sym_visibility"] = ir.StringAttr.get("private")
        fn.attributes["function_type"] = ir.TypeAttr.get(ir.FunctionType.get([a.type for a in block.arguments], []))
        if "llvm.emit_c_interface" in fn.attributes:
            del fn.attributes["llvm.emit_c_interface"]
        api = ir.Module.parse(_api(name, planned.size, planned.alignment, buffers, params, states))
        body = module_op.regions[0].blocks[0]
        for op in list(api.body.operations):
            body.append(op)
    _add_includes(module_op)


def _add_includes(module_op):
    """The C headers the lowered code and the API use, before everything."""
    body = module_op.regions[0].blocks[0]
    first = body.operations[0]
    with ir.InsertionPoint(first), ir.Location.unknown():
        for header in HEADERS:
            ir.Operation.create(
                "emitc.include",
                attributes={"include": ir.StringAttr.get(header), "is_standard_include": ir.UnitAttr.get()},
            )
