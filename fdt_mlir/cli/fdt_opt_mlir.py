"""fdt-opt-mlir: an mlir-opt-style driver that also compiles model files.

    fdt-opt-mlir IN.mlir --fdt-tile-kernels --canonicalize -o OUT.mlir
    fdt-opt-mlir IN.mlir --pass-pipeline='builtin.module(fdt-plan-memory)'
    fdt-opt-mlir MODEL.tflite --tiling none --emit c -o OUTDIR

Every problem with the input or the options is one line on stderr and exit
status 1 (2 for bad command lines, found before any work); nothing is
written then. Ctrl-C stops it with one line and status 130, and nothing
written either: the outputs are written together at the end.
"""

import argparse
import os
import sys
import tempfile
import time
from importlib import metadata

from mlir import ir

from .. import api, pipeline, plots
from .. import report as report_format
from ..dialect import make_context
from ..dialect.ops import add_paths, set_overlap_mode
from ..emit.code_size import TARGET as CODE_TARGET
from ..emit.code_size import code_bytes, missing_tools
from ..emit.files import write_trees
from ..errors import FdtError
from ..importers import load, model_name
from ..importers.mlir_text import parse_mlir_text, split_input
from ..passes import REGISTRY, load_all
from ..search.pareto import parse_size
from ..search.unit_workers import available_cpus
from ..tiling_plan import parse_plan

PROG = "fdt-opt-mlir"
JOBS = "FDT_MLIR_JOBS"  # the default of --jobs
SEARCH_OPTIONS = ("max_mac_overhead", "max_partitions", "search_limit")  # they tune a search only


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def _parser():
    p = _Parser(prog=PROG, description=__doc__.splitlines()[0], add_help=True)
    p.add_argument("input", nargs="?", default="-", help="a .mlir, .tflite or .onnx file, or - for stdin (MLIR text)")
    p.add_argument("-o", dest="output", default="-", help="output file (MLIR) or directory (--emit c)")
    p.add_argument("--pass-pipeline", help="a textual pipeline: builtin.module(p1,p2{opt=v},...)")
    p.add_argument(
        "--emit",
        choices=["mlir", "c", "iree"],
        default="mlir",
        help="mlir: print the IR after the passes; c: compile to C; iree: the tiled linalg on tensors for iree-compile",
    )
    p.add_argument(
        "--tiling",
        choices=list(api.FAMILIES),
        default="none",
        help="fused tiling to search for (--emit c): fdt, ffmt, both (all), or none",
    )
    p.add_argument(
        "--max-mac-overhead", type=_percent, metavar="PERCENT", help="most extra MACs a plan may recompute (0: none)"
    )
    p.add_argument(
        "--max-partitions",
        type=_partitions,
        metavar="N",
        help=f"most slices a path may split into (default {api.Options.max_partitions})",
    )
    p.add_argument(
        "--search-limit",
        type=_positive,
        metavar="N",
        help="candidates the search lowers per critical buffer and family, the shortest paths first "
        f"(default {api.Options.search_limit}): "
        "more may find smaller arenas, at more compile time",
    )
    p.add_argument(
        "-j",
        "--jobs",
        type=_positive,
        metavar="N",
        help=f"worker processes lowering the search's candidates at once (default: ${JOBS}, else the CPUs "
        "available); the plan does not depend on it",
    )
    p.add_argument(
        "--ram-budget",
        type=_size,
        metavar="SIZE",
        help="emit the plan with the fewest MACs whose arena fits SIZE bytes (or 32K, 32KiB, 0.5M) on the Pareto "
        "front; searches --tiling all unless a family is given",
    )
    p.add_argument(
        "--pareto",
        action="store_true",
        help="search under a ladder of MAC budgets and report the arena/MAC Pareto front (text and JSON); "
        "emits its smallest arena unless --ram-budget; searches --tiling all unless a family is given",
    )
    p.add_argument(
        "--fdt-plan", metavar="PLAN", help="a tiling plan file to apply (format: fdt_mlir/tiling_plan.py, README)"
    )
    p.add_argument(
        "--overlap",
        action=argparse.BooleanOptionalAction,
        help="a kernel's output may overlap the part of its input it has read: on by default with --emit c|iree; "
        "with passes, sets (or --no-overlap clears) the module's fdt.overlap",
    )
    p.add_argument(
        "--report-format", choices=["text", "json"], default="text", help="how the one-shot compile reports on stdout"
    )
    p.add_argument(
        "--plot",
        metavar="DIR",
        help="also draw the arena over time, before and after tiling, into DIR (PNG and SVG), and the Pareto front "
        "with --pareto or --ram-budget",
    )
    p.add_argument(
        "--shadow-check",
        action="store_true",
        help="debugging aid (--emit c): also write M.shadow.c, the same C checking every arena access against a "
        "shadow tag per byte, which reports the first wrong one through M_shadow_error()",
    )
    p.add_argument(
        "--code-size",
        action="store_true",
        help="also report the code's flash bytes (--emit c): M.c built for a Cortex-M4 with arm-none-eabi-gcc -O2, "
        "its .text (a cross-compile: seconds for a large model)",
    )
    p.add_argument("--name", help="model name, the prefix of the C API (default: from the file name)")
    p.add_argument("--mlir-print-ir-after-all", action="store_true", help="print the IR after each pass to stderr")
    p.add_argument("--mlir-print-op-generic", action="store_true", help="print operations in generic form")
    p.add_argument(
        "--split-input-file", action="store_true", help="process each '// -----' chunk of MLIR input on its own"
    )
    p.add_argument("--list-passes", action="store_true", help="list fdt-mlir's own passes and exit")
    p.add_argument("--version", action="store_true", help="print the versions of fdt-mlir, MLIR and IREE and exit")
    return p


def _version() -> str:
    def version(package):
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return "not installed"

    return (
        f"{PROG} {version('fdt-mlir')} (MLIR Python bindings {version('xtc-mlir-python-bindings')}, "
        f"iree-base-compiler {version('iree-base-compiler')})"
    )


def _default_jobs() -> int:
    """$FDT_MLIR_JOBS, else the CPUs this process may run on."""
    if os.environ.get(JOBS):
        try:
            return _positive(os.environ[JOBS])
        except argparse.ArgumentTypeError as e:
            raise _UsageError(f"${JOBS}: {e}") from None
    return available_cpus()


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of at least 1")
    return int(text)


def _partitions(text: str) -> int:
    if not text.isdigit() or int(text) < 2:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of at least 2")
    return int(text)


def _split_pass_flags(argv):
    """mlir-opt style: `--some-pass` or `--some-pass=opts` runs that pass."""
    load_all()
    rest, passes = [], []
    known = {a for action in _parser()._actions for a in action.option_strings}
    for arg in argv:
        flag = arg.split("=", 1)[0]
        if arg.startswith("--") and flag not in known:
            name = flag[2:]
            if "=" in arg:
                name += "{" + arg.split("=", 1)[1] + "}"
            if not pipeline.is_known_pass(name):
                raise _UsageError(f"unknown option {flag}")
            passes.append(name)
        else:
            rest.append(arg)
    return rest, passes


def _print_ir(module, generic, stream):
    stream.write(module.operation.get_asm(print_generic_op_form=generic))


def _read_plan(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError as e:
        raise FdtError(f"cannot read plan '{path}': {e.strerror}") from None


def run(argv) -> int:
    argv, pass_flags = _split_pass_flags(argv)
    args = _parser().parse_args(argv)
    if args.version:
        print(_version())
        return 0
    if args.list_passes:
        for info in sorted(REGISTRY.values(), key=lambda i: i.name):
            print(f"  --{info.name:28} {info.summary}")
        return 0
    _check_options(args, pass_flags)
    one_shot = args.emit in ("c", "iree")
    name = args.name or model_name(args.input)
    printer = _ir_printer(args.mlir_print_op_generic) if args.mlir_print_ir_after_all else None
    front = args.ram_budget is not None or args.pareto
    tiling = "all" if front and args.tiling == "none" else args.tiling
    paths = parse_plan(_read_plan(args.fdt_plan), args.fdt_plan) if args.fdt_plan else []
    if one_shot:
        searched = {key: getattr(args, key) for key in SEARCH_OPTIONS if getattr(args, key) is not None}
        options = api.Options(
            tiling,
            overlap=args.overlap is not False,
            pareto=args.pareto,
            ram_budget=args.ram_budget,
            jobs=args.jobs or _default_jobs(),
            **searched,
        )
        start = time.perf_counter()
        result = api.compile(
            args.input,
            options,
            name=name,
            plan=paths,
            emit=args.emit,
            shadow_check=args.shadow_check,
            print_after_all=printer,
            progress=_progress,
        )
        # What depends on the machine goes to stdout only: M.report.json
        # stays byte for byte the same everywhere.
        report = dict(result.report)
        report["compile_seconds"] = round(time.perf_counter() - start, 1)
        if args.code_size:
            report["code_bytes"], report["code_target"] = code_bytes(result.files, name), CODE_TARGET
        trees = {args.output: result.files}
        if args.plot:
            pictures = plots.arena_files(result.report)
            if "pareto" in result.report:
                pictures.update(plots.front_files(result.report))
            trees[args.plot] = {**trees.get(args.plot, {}), **pictures}
        _write(trees)
        if args.report_format == "json":
            text = report_format.json_text(report)
        else:
            text = report_format.text(report, result.paths)
        sys.stdout.write(text.rstrip("\n") + "\n")
        return 0
    names = pass_flags + (pipeline.split_pipeline(args.pass_pipeline) if args.pass_pipeline else [])
    chunks = []
    for source in split_input(args.input) if args.split_input_file else [None]:
        with make_context(), ir.Location.unknown():
            module = load(args.input, name) if source is None else parse_mlir_text(source, args.input)
            add_paths(paths, module.operation)
            if args.overlap is not None:
                set_overlap_mode(module.operation, args.overlap)
            pipeline.run_passes(module, names, printer)
            chunks.append(module.operation.get_asm(print_generic_op_form=args.mlir_print_op_generic))
    text = "// -----\n".join(chunks)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        _write({os.path.dirname(os.path.abspath(args.output)): {os.path.basename(args.output): text}})
    return 0


def _check_options(args, pass_flags):
    """The command line's own mistakes, found before any work: options that
    exclude each other or do nothing in the mode asked for, a --name that
    is no C identifier, and outputs that cannot be written."""
    one_shot = args.emit in ("c", "iree")
    front = "--ram-budget" if args.ram_budget is not None else "--pareto" if args.pareto else None
    if one_shot and args.output == "-":
        raise _UsageError(f"--emit {args.emit} needs -o OUTDIR")
    if one_shot and (pass_flags or args.pass_pipeline):
        raise _UsageError(f"--emit {args.emit} runs the whole flow; it takes no passes")
    if args.shadow_check and args.emit != "c":
        raise _UsageError("--shadow-check instruments the C; it needs --emit c")
    if args.code_size and args.emit != "c":
        raise _UsageError("--code-size builds the C; it needs --emit c")
    missing = missing_tools() if args.code_size else []
    if missing:
        raise _UsageError(f"--code-size needs {missing[0]} (apt-get install gcc-arm-none-eabi)")
    if not one_shot:
        given = [
            flag
            for flag, used in (
                ("--plot", args.plot),
                (front, front),
                (f"--tiling {args.tiling}", args.tiling != "none"),
                ("--report-format", args.report_format != "text"),
            )
            if used
        ]
        if given:
            raise _UsageError(f"{given[0]} applies to a compiled model; it needs --emit c or --emit iree")
    if args.fdt_plan and args.tiling != "none":
        raise _UsageError(f"--fdt-plan gives the plan; it excludes --tiling {args.tiling}")
    if front and args.fdt_plan:
        raise _UsageError(f"--fdt-plan gives the plan; it excludes {front}")
    searching = args.tiling != "none" or front is not None
    for key in SEARCH_OPTIONS:
        if getattr(args, key) is not None and not searching:
            flag = "--" + key.replace("_", "-")
            raise _UsageError(f"{flag} tunes the search; it needs --tiling fdt|ffmt|all, --pareto or --ram-budget")
    if args.jobs is not None and not (searching or args.fdt_plan):
        raise _UsageError("--jobs lowers the search's candidates; it needs a search or --fdt-plan")
    if args.name is not None and not api.C_IDENTIFIER.fullmatch(args.name):
        raise _UsageError(f"--name '{args.name}' is not a C identifier (it prefixes the C API)")
    if one_shot:
        _check_directory(args.output, "-o")
    if args.plot:
        _check_directory(args.plot, "--plot")
    if not one_shot and args.output != "-":
        if os.path.isdir(args.output):
            raise _UsageError(f"-o {args.output}: is a directory; the IR goes to a file")
        _check_directory(os.path.dirname(os.path.abspath(args.output)), "-o")


def _check_directory(path: str, flag: str):
    """An output directory must be one, or be creatable, and take files."""
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        what = "exists and is not a directory" if existing == os.path.abspath(path) else f"{existing} is a file"
        raise _UsageError(f"{flag} {path}: {what}")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as e:
        raise _UsageError(f"{flag} {path}: cannot write into {existing}: {e.strerror}") from None


def _write(trees: dict):
    try:
        write_trees(trees)
    except OSError as e:
        raise FdtError(f"cannot write {e.filename or 'the outputs'}: {e.strerror}") from None


def _ir_printer(generic: bool):
    def printer(pass_name, module):
        sys.stderr.write(f"// -----// IR Dump After {pass_name} //----- //\n")
        _print_ir(module, generic, sys.stderr)
        sys.stderr.write("\n")

    return printer


def _progress(line: str):
    print(f"{PROG}: {line}", file=sys.stderr, flush=True)


def main(argv=None) -> int:
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except _UsageError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except FdtError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing written", file=sys.stderr)
        return 130
    except Exception as e:  # a bug of ours: still one line, unless asked for the trace
        if os.environ.get("FDT_DEBUG"):
            raise
        first = str(e).splitlines()[0] if str(e) else ""
        print(f"{PROG}: internal error: {type(e).__name__}: {first} (set FDT_DEBUG=1 for a traceback)", file=sys.stderr)
        return 3
