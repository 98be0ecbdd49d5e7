"""What a one-shot compile tells its user: the report, built from the planned
arena and the tiling decision, as JSON (`M.report.json`) or text."""

import json
import re
from dataclasses import asdict

TOP_BUFFERS = 8  # buffers listed at the peak; the rest are counted


def build(
    name: str,
    arena,
    io: list,
    weight_bytes: int,
    state_bytes: int,
    macs: int,
    macs_untiled: int,
    tiling: str,
    tiled=None,
    overlap: bool = False,
    layers: list = (),
) -> dict:
    """The report of a compiled model. `arena` is the planned arena
    (analysis.planned_arena.PlannedArena); `io` the model's inputs and
    outputs (analysis.model_io.TensorInfo); `state_bytes` the recurrent
    state's static RAM, outside the arena; `tiling` the search family, or
    "plan" for a plan given by the user; `tiled` the search's result
    (search.path_search.SearchResult) when a plan was searched or given;
    `overlap`: outputs may overlap consumed inputs, and the report lists
    the pairs that do ("overlaps") and the kernels that run backwards to
    let them ("backward"); `layers` the kernels in the order they run, as
    (name, MACs, bytes of the whole output)."""
    buffers = [asdict(b) for b in arena.buffers]
    pairs = overlaps(buffers) if overlap else []
    _, at_peak, shared = peak(buffers, pairs)
    report = {
        "model": name,
        "arena_bytes": arena.size,
        "input_bytes": sum(b.bytes for b in arena.io("input")),
        "output_bytes": sum(b.bytes for b in arena.io("output")),
        "weight_bytes": weight_bytes,
        "state_bytes": state_bytes,
        "macs": macs,
        "macs_untiled": macs_untiled,
        "tiling": tiling,
        "paths": [p.notation() for p in tiled.paths] if tiled else [],
        "layout": arena.method,
        "layout_lower_bound": arena.lower_bound,
        "peak_live_bytes": sum(b["bytes"] for b in at_peak),
        "inputs": _tensors(arena, io, "input"),
        "outputs": _tensors(arena, io, "output"),
        "layers": _layers(layers, buffers, pairs, tiled.paths if tiled else []),
        "buffers": buffers,
    }
    if overlap:
        report["overlaps"] = pairs
        report["backward"] = list(arena.backward)
        report["peak_shared_bytes"] = shared
    if tiled is not None:
        report["arena_bytes_untiled"] = tiled.untiled.arena
        report["arena_bytes_predicted"] = tiled.predicted.arena
        report["buffers_untiled"] = _predicted_buffers(tiled.untiled.buffers)
        report["search"] = _search(tiled.iterations)
    return report


def _tensors(arena, io: list, kind: str) -> list[dict]:
    """What the application needs of each model input or output: what the
    header's macros say, and for an input whether an invoke overwrites it."""
    info = {t.name: t for t in io}
    found = []
    for b in arena.io(kind):
        t = info.get(b.name)
        entry = {
            "name": b.name,
            "shape": list(t.shape) if t else None,
            "elements": t.elements if t else None,
            "c_type": b.c_type,
            "bytes": b.bytes,
            "offset": b.offset,
            "scale": t.scale if t else None,
            "zero_point": t.zero_point if t else None,
        }
        if kind == "input":
            entry["overwritten_by_invoke"] = arena.overwritten(b.name)
        found.append(entry)
    return found


def _layers(layers, buffers: list[dict], pairs: list[dict], paths) -> list[dict]:
    """Per kernel, in the order they run: its MACs (recomputation included),
    the bytes of its whole output, the bytes live in the arena when it
    first writes a buffer of its own (overlapping pairs counted once; None
    when it writes none: a view, a register, a path's inner slice in
    another kernel's buffer), and the path it is in."""
    in_path = {name: p for p in paths for name in p.kernels}
    by_name = {layer[0]: layer for layer in layers}
    ordered = []  # a path's kernels as the path lists them (its loop slices its last one first)
    for name, _, _ in layers:
        ordered += [k for k in (in_path[name].kernels if name in in_path else (name,)) if k not in ordered]
    found = []
    for name, macs, output_bytes in (by_name[k] for k in ordered):
        own = [b["first_op"] for b in buffers if b["producer"] == name]
        live = None
        if own:
            at, shared = _live_at(min(own), buffers, pairs)
            live = sum(b["bytes"] for b in at) - shared
        found.append(
            {
                "kernel": name,
                "macs": macs,
                "output_bytes": output_bytes,
                "live_bytes": live,
                "path": in_path[name].notation() if name in in_path else None,
            }
        )
    return found


def add_front(report: dict, front: list, chosen, ram_budget: int | None):
    """The Pareto front (search.pareto.FrontPoint, fewest MACs first) into
    the report, the emitted design (`chosen`: its SearchResult) marked, and
    the RAM budget it was chosen for, if any."""
    untiled = report["macs_untiled"]
    report["pareto"] = [
        {
            "arena_bytes": p.arena,
            "macs": p.macs,
            "mac_overhead_percent": round(100 * (p.macs - untiled) / untiled, 2) if untiled else 0.0,
            "paths": [path.notation() for path in p.paths],
            "compact": [path.compact() for path in p.paths],
            "chosen": p.result is chosen,
        }
        for p in front
    ]
    if ram_budget is not None:
        report["ram_budget"] = ram_budget


def _predicted_buffers(intervals) -> list[dict]:
    """The cost model's buffers (planning.layout.Interval) in the form of
    the planned ones, so that the untiled program can be shown beside the
    tiled one without lowering it."""
    found = []
    for b in intervals:
        found.append(
            {
                "name": b.key,
                "bytes": b.size,
                "offset": b.offset,
                "first_op": b.first,
                "last_op": b.last,
                "producer": None if re.fullmatch(r"input\d+", b.key) else b.key.split("#")[0],
            }
        )
    return found


def _search(iterations) -> list[dict]:
    """The search's iterations (search.path_search.Iteration)."""
    return [
        {
            "arena_before": it.arena_before,
            "critical_buffers": [{"producer": name, "bytes": size} for name, size in it.critical],
            "design_points": [vars(p) for p in it.points],
            "bounded_out": it.bounded_out,
            "beyond_limit": it.beyond_limit,
            "chosen": it.chosen,
        }
        for it in iterations
    ]


def overlaps(buffers: list[dict]) -> list[dict]:
    """The pairs of buffers live together that share bytes (only a kernel's
    output over an input it consumes may), with the bytes they share. The
    input is the one live first (at the same step: the higher one)."""
    found = []
    for k, a in enumerate(buffers):
        for b in buffers[k + 1 :]:
            if a["first_op"] > b["last_op"] or b["first_op"] > a["last_op"]:
                continue
            shared = min(a["offset"] + a["bytes"], b["offset"] + b["bytes"]) - max(a["offset"], b["offset"])
            if shared > 0:
                source, target = sorted((a, b), key=lambda x: (x["first_op"], -x["offset"]))
                found.append({"output": target["name"], "input": source["name"], "shared_bytes": shared})
    return found


def peak(buffers: list[dict], pairs: list[dict] = ()) -> tuple[int, list[dict], int]:
    """(step, buffers live there, bytes they share) where the live bytes
    less those that the overlapping `pairs` (`overlaps`) share are highest."""
    best_step, best, best_shared = 0, -1, 0
    for step in sorted({b["first_op"] for b in buffers}):
        at, shared = _live_at(step, buffers, pairs)
        live = sum(b["bytes"] for b in at)
        if live - shared > best:
            best_step, best, best_shared = step, live - shared, shared
    return best_step, _live_at(best_step, buffers, pairs)[0], best_shared


def _live_at(step: int, buffers: list[dict], pairs: list[dict]) -> tuple[list[dict], int]:
    """The buffers live at `step`, and the bytes the overlapping pairs of
    them share."""
    at = [b for b in buffers if b["first_op"] <= step <= b["last_op"]]
    names = {b["name"] for b in at}
    return at, sum(p["shared_bytes"] for p in pairs if p["input"] in names and p["output"] in names)


def text(report: dict, paths: list) -> str:
    """A short terminal report: the arena against the untiled one and the
    floor, the MACs against the untiled ones, the chosen paths (tiling_plan.Path)
    in compact notation, and the largest buffers live at the peak with their
    producers."""
    floor = max(report["input_bytes"], report["output_bytes"])
    arena = report["arena_bytes"]
    if paths:
        untiled = report["arena_bytes_untiled"]
        change = f" (untiled {untiled} B, {_percent(arena - untiled, untiled, 1)})"
    else:
        change = ""
    lines = [f"{report['model']}: arena {arena} B{change}; floor max(input, output) {floor} B"]
    code = f" + code {report['code_bytes']} B ({report['code_target']})" if "code_bytes" in report else ""
    lines.append(
        f"  layout {report['layout']} (lower bound {report['layout_lower_bound']} B);"
        f" weights {report['weight_bytes']} B{code} in flash"
    )
    if "compile_seconds" in report:
        lines.append(f"  compiled in {report['compile_seconds']:.1f} s")
    if paths:
        lines.append(f"  MACs {report['macs']} (untiled {report['macs_untiled']}, {_overhead(report)})")
    else:
        lines.append(f"  MACs {report['macs']}")
    predicted = report.get("arena_bytes_predicted")
    if predicted is not None and predicted != arena:
        lines.append(f"  warning: the cost model predicted an arena of {predicted} B")
    lines += _io(report)
    if "pareto" in report:
        lines += _front(report)
    if "overlaps" in report:
        lines += _overlaps(report["overlaps"])
    if report.get("backward"):
        lines.append(f"  run backwards (last pixel first, the output above its input): {', '.join(report['backward'])}")
    lines += _paths(report["tiling"], paths)
    compact = {k: p.compact() for p in paths for k in p.kernels}
    lines += _peak(report["buffers"], report.get("overlaps", []), compact)
    lines += _layer_table(report["layers"], compact)
    return "\n".join(lines)


def _layer_table(layers: list[dict], compact: dict) -> list[str]:
    """The kernels as they run: MACs, whole output, bytes live when each
    writes its first buffer, and its path in compact notation."""
    rows = [("kernel", "MACs", "output B", "live B", "path")]
    for layer in layers:
        live = "-" if layer["live_bytes"] is None else str(layer["live_bytes"])
        path = compact.get(layer["kernel"], "")
        rows.append((layer["kernel"], str(layer["macs"]), str(layer["output_bytes"]), live, path))
    widths = [max(len(row[k]) for row in rows) for k in range(5)]
    lines = ["  layers, as they run:"]
    for row in rows:
        cells = [row[0].ljust(widths[0]), *(cell.rjust(width) for cell, width in zip(row[1:4], widths[1:4])), row[4]]
        lines.append(("    " + "  ".join(cells)).rstrip())
    return lines


def _io(report: dict) -> list[str]:
    """One line per model input and output: its C type and shape, and its
    quantization (the header's macros)."""
    lines = []
    for t in report["inputs"] + report["outputs"]:
        shape = "" if t["shape"] is None else "[" + "x".join(str(d) for d in t["shape"]) + "]"
        quantized = "" if t["scale"] is None else f", scale {t['scale']:.9g}, zero point {t['zero_point']}"
        overwritten = ", overwritten by invoke" if t.get("overwritten_by_invoke") else ""
        lines.append(f"  {t['name']}: {t['c_type']}{shape} at {t['offset']}{quantized}{overwritten}")
    return lines


def _paths(tiling: str, paths) -> list[str]:
    source = "--fdt-plan" if tiling == "plan" else f"--tiling {tiling}"
    if not paths:
        why = "" if tiling == "none" else ": no path shrinks the arena"
        return [f"  paths: none ({source}{why})"]
    width = max(len(p.compact()) for p in paths)
    lines = [f"  paths ({source}):"]
    for p in paths:
        lines.append(f"    {p.compact():<{width}}  {p.chain()}")
    return lines


def _front(report: dict) -> list[str]:
    budget = f", the fewest MACs within {report['ram_budget']} B" if "ram_budget" in report else ""
    lines = [f"  Pareto front of arena and MACs (* the emitted design{budget}):"]
    rows = [
        (
            "*" if p["chosen"] else " ",
            f"{p['arena_bytes']} B",
            f"{p['macs']} MACs",
            f"{p['mac_overhead_percent']:+.1f} %",
            "; ".join(f"{c} ({n.split(' : ')[1]})" for c, n in zip(p["compact"], p["paths"])) or "untiled",
        )
        for p in report["pareto"]
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for mark, arena, macs, overhead, paths in rows:
        lines.append(f"   {mark} {arena:>{widths[1]}}  {macs:>{widths[2]}}  {overhead:>{widths[3]}}  {paths}")
    return lines


def _overlaps(pairs: list[dict]) -> list[str]:
    if not pairs:
        return ["  overlaps: none"]
    total = sum(p["shared_bytes"] for p in pairs)
    lines = [f"  overlaps (an output over the input it consumes; {len(pairs)} pairs, {total} B shared):"]
    for p in pairs:
        lines.append(f"    {p['output']} over {p['input']}: {p['shared_bytes']} B")
    return lines


def _peak(buffers: list[dict], pairs: list[dict], tiled: dict) -> list[str]:
    if not buffers:
        return ["  no buffers in the arena"]
    step, live, shared = peak(buffers, pairs)
    live = sorted(live, key=lambda b: (-b["bytes"], b["offset"], b["name"]))
    total = sum(b["bytes"] for b in live)
    held = f"{total} B live" + (f", {shared} B of them shared: {total - shared} B held" if shared else "")
    lines = [f"  top buffers at the peak (op {step}, {held}):"]
    shown, rest = live[:TOP_BUFFERS], live[TOP_BUFFERS:]
    rows = [
        (b["name"], f"{b['bytes']} B", f"@{b['offset']}", b.get("c_type") or "", _written_by(b, tiled)) for b in shown
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for name, size, offset, c_type, producer in rows:
        lines.append(
            f"    {name:<{widths[0]}}  {size:>{widths[1]}}  {offset:<{widths[2]}}  {c_type:<{widths[3]}}"
            f"  {producer}".rstrip()
        )
    if rest:
        lines.append(f"    (+{len(rest)} smaller, {sum(b['bytes'] for b in rest)} B)")
    return lines


def _written_by(buffer: dict, tiled: dict) -> str:
    """The buffer's producer, and the path it is in (compact notation)."""
    producer = buffer.get("producer")
    if producer is None:
        return "model input" if buffer["name"].startswith("input") else "?"
    notes = [f"node '{buffer['producer_node']}'"] if buffer.get("producer_node") else []
    if producer in tiled:
        notes.append(f"in path {tiled[producer]}")
    if buffer["name"].startswith("output"):
        notes.append("model output")
    return producer + (f" ({', '.join(notes)})" if notes else "")


def _percent(change: int, base: int, digits: int) -> str:
    return f"{100 * change / base:+.{digits}f} %" if base else "n/a"


def _overhead(report) -> str:
    extra = report["macs"] - report["macs_untiled"]
    if extra > 0:
        return f"+{100 * extra / report['macs_untiled']:.2f} % recomputed"
    if extra < 0:
        return f"{-100 * extra / report['macs_untiled']:.2f} % fewer: outputs no consumer reads are skipped"
    return "no recomputation"


def json_text(report: dict) -> str:
    return json.dumps(report, indent=2) + "\n"
