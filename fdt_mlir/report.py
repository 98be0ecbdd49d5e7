"""What a one-shot compile tells its user: the report as text or JSON."""

import json

from . import analysis
from .plan import parse_plan

TOP_BUFFERS = 8  # buffers listed at the peak; the rest are counted


def text(report: dict) -> str:
    """A short terminal report: the arena against the untiled one and the
    floor, the MACs against the untiled ones, the chosen paths in compact
    notation, and the largest buffers live at the peak with their producers."""
    paths = parse_plan("\n".join(report["paths"]), "report") if report["paths"] else []
    floor = max(report["input_bytes"], report["output_bytes"])
    arena = report["arena_bytes"]
    if paths:
        untiled = report["arena_bytes_untiled"]
        change = f" (untiled {untiled} B, {_percent(arena - untiled, untiled, 1)})"
    else:
        change = ""
    lines = [f"{report['model']}: arena {arena} B{change}; floor max(input, output) {floor} B"]
    lines.append(
        f"  layout {report['layout']} (lower bound {report['layout_lower_bound']} B);"
        f" weights {report['weight_bytes']} B in flash"
    )
    if paths:
        lines.append(f"  MACs {report['macs']} (untiled {report['macs_untiled']}, {_overhead(report)})")
    else:
        lines.append(f"  MACs {report['macs']}")
    predicted = report.get("arena_bytes_predicted")
    if predicted is not None and predicted != arena:
        lines.append(f"  warning: the cost model predicted an arena of {predicted} B")
    lines += _paths(report["tiling"], paths)
    lines += _peak(report["buffers"], {k: p.compact() for p in paths for k in p.kernels})
    return "\n".join(lines)


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


def _peak(buffers: list[dict], tiled: dict) -> list[str]:
    if not buffers:
        return ["  no buffers in the arena"]
    step, live = analysis.peak(buffers)
    live = sorted(live, key=lambda b: (-b["bytes"], b["offset"], b["name"]))
    lines = [f"  top buffers at the peak (op {step}, {sum(b['bytes'] for b in live)} B live):"]
    shown, rest = live[:TOP_BUFFERS], live[TOP_BUFFERS:]
    rows = [
        (b["name"], f"{b['bytes']} B", f"@{b['offset']}", b.get("c_type") or "", _written_by(b, tiled))
        for b in shown
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
    notes = []
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
