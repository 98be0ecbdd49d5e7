"""The compilation flow as visible lists of passes.

Each stage is a list of pass names: ours (registered in `fdt_mlir.passes`)
and upstream ones, run by `run_passes`. `api.compile_module` runs the
stages in order (TOSA_TO_LINALG, TILE_PATHS, KERNELS, BUFFERIZE, PLAN,
MICROKERNELS, EMITC; `--emit iree` also runs IREE, on a copy of the module
after TILE_PATHS); `fdt-opt-mlir` also runs any list of passes mlir-opt
style.
"""

from mlir import ir, passmanager

from .errors import FdtError
from .passes import REGISTRY, load_all

TOSA_TO_LINALG = [
    # ONNX: integer depthwise convs come NHWC-transposed from torch-mlir.
    "fdt-nchw-depthwise",
    # level=none: TFLite models may exceed TOSA's 8K level (e.g. rank-4 PAD).
    "tosa-attach-target{profiles=pro_int,pro_fp extensions=int16,doubleround level=none}",
    "tosa-to-linalg-pipeline",
    "tosa-to-tensor",
    # tosa.apply_scale stays whole: fdt-lower-apply-scale calls a microkernel
    # for it (MICROKERNELS); EMITC and IREE expand what is left.
    "tosa-to-arith",
    "canonicalize",
    "fdt-fold-depth-multiplier",
    "canonicalize",
    "linalg-generalize-named-ops",
    # ONNX: a ConvTranspose's flipped weights, gathered at run time.
    "fdt-fold-constant-generics",
    # HardSwish reads x twice: its elementwise ops become one, so that a
    # path fuses the op making x into its loop once.
    "fdt-merge-read-twice",
    "fdt-fill-splat-inits",
    "fdt-fold-crops",
    "fdt-adopt-window-pads",
    "fdt-copy-slices",
    "cse",
]

TILE_PATHS = ["fdt-schedule", "fdt-apply-plan", "canonicalize", "cse"]

# Elementwise fusion runs only inside the kernels' tile loops: on whole
# tensors it would also fuse a requantization into the next layer's reduction,
# recomputing it for every output and keeping the int32 tensor between them.
KERNELS = [
    "fdt-tile-kernels",
    "canonicalize",
    "cse",
    "fdt-fold-pad",
    "linalg-fuse-elementwise-ops",
    "canonicalize",
    "cse",
    "fdt-bound-tiles",
]

BUFFERIZE = [
    "fdt-bufferize",
    "cse",
    # Also erases the self-copies that in-place tile insertion leaves.
    "canonicalize",
    "func.func(buffer-loop-hoisting)",
    "fdt-state-to-globals",
    "convert-linalg-to-loops",
    "fold-memref-alias-ops",
    "lower-affine",
    "fdt-flatten-memrefs",
    "canonicalize",
    "cse",
]

PLAN = ["fdt-plan-memory"]

# Only for per-layer profiles (`compile(..., layer_marks=True)`), between
# PLAN and EMITC: calls to fdt_layer(k) where operator k starts.
MARK_LAYERS = ["fdt-mark-layers"]

# --emit iree: the module after TILE_PATHS, rewritten (on a copy) into what
# iree-compile accepts. Pad guards go first: unrolled, a tile wholly in the
# padding would keep only the guard's tensor.generate. Unrolling gives every
# tile constant offsets, which canonicalize folds into static shapes, and
# the static slices that fdt-refill-tile-outputs needs to prove tiles
# disjoint.
IREE = [
    "tosa-to-arith{include-apply-rescale=true}",
    "fdt-drop-pad-guards",
    "fdt-unroll-tile-loops",
    "canonicalize",
    "fdt-refill-tile-outputs",
    "canonicalize",
    "cse",
]

# --emit c, on the planned loops (so arenas are those planned): border
# windows skip their padding, weights are stored in reading order, and
# multiply-accumulate nests (int8 and float32) and requantizations become
# microkernel calls (fdt_mlir/ukernels), several output channels per call
# where they share a window or an input.
MICROKERNELS = [
    "fdt-skip-padding",
    "fdt-relayout-weights",
    "fdt-block-channels",
    "fdt-lower-dot-to-ukernel",
    "fdt-lower-apply-scale",
]

# Only for `--shadow-check` (`compile(..., shadow_check=True)`), a debugging
# aid, on a copy of the module after MICROKERNELS, then EMITC: M.shadow.c,
# where every arena access checks a shadow tag per byte (the buffer whose
# value it holds) and the first one that finds another buffer's value is
# reported.
SHADOW = ["fdt-shadow-arena"]

EMITC = [
    "fdt-lower-arena-to-emitc",
    # What fdt-lower-apply-scale leaves (48-bit accumulators of int16 models).
    "tosa-to-arith{include-apply-rescale=true}",
    # rsqrt: an ONNX BatchNormalization's 1 / sqrt(var + eps).
    "math-expand-ops{ops=tanh,rsqrt}",
    "fdt-lower-math-to-c99",
    "arith-expand",
    "convert-math-to-emitc{language-target=c99}",
    "convert-to-emitc",
    "reconcile-unrealized-casts",
    "canonicalize",
]


def split_pipeline(text: str) -> list[str]:
    """Top-level elements of a textual pipeline, `builtin.module(...)` optional."""
    text = text.strip()
    if text.startswith("builtin.module(") and text.endswith(")"):
        text = text[len("builtin.module(") : -1]
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current.strip())
    return parts


def is_known_pass(name: str) -> bool:
    load_all()
    if name in REGISTRY:
        return True
    try:
        passmanager.PassManager.parse(f"builtin.module({name})", context=ir.Context())
        return True
    except ValueError:
        return False


def run_passes(module: ir.Module, names: list[str], print_after_all=None):
    """Runs `names` in order on `module`. `print_after_all(name, module)` is
    called after each pass when given."""
    load_all()
    for name in names:
        info = REGISTRY.get(name)
        try:
            if info is not None:
                info.run(module.operation)
                module.operation.verify()
            else:
                pm = passmanager.PassManager.parse(f"builtin.module({name})")
                pm.run(module.operation)
        except FdtError:
            raise
        except ir.MLIRError as e:
            raise FdtError(f"pass {name} failed: {first_diagnostic(e)}") from None
        except ValueError as e:
            raise FdtError(f"pass {name} failed: {str(e).splitlines()[0]}") from None
        if print_after_all is not None:
            print_after_all(name, module)


def bytecode(module: ir.Module) -> bytes:
    """The module as bytecode, locations included: kernels are named by them."""
    return module.operation.get_asm(binary=True, enable_debug_info=True)


def copy_module(module: ir.Module) -> ir.Module:
    """A new ir.Module equal to `module`. (The transform interpreter corrupts
    memory on a detached clone of the module op.)"""
    return ir.Module.parse(bytecode(module), module.context)


def run_on_copy(module: ir.Module, names: list[str]) -> ir.Module:
    """Runs `names` on a copy of `module` and returns the copy."""
    copy = copy_module(module)
    run_passes(copy, names)
    return copy


def first_diagnostic(error: ir.MLIRError) -> str:
    diagnostics = getattr(error, "error_diagnostics", None)
    if diagnostics:
        d = diagnostics[0]
        return f"{d.location}: {d.message}".splitlines()[0]
    return str(error).splitlines()[0]
