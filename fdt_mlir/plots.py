"""Pictures of a compiled model's arena, and of the evaluation table.

The arena picture draws the report's buffers as the planner laid them out
(x: schedule step, y: byte offset, one rectangle per buffer over its
lifetime), beside the cost model's untiled layout when tiling was searched
or planned, so that one can see what tiling removed. Bytes that an output
shares with the input it consumes are hatched over both. The images are
byte-identical from run to run: a fixed style and bundled font, a fixed SVG
hash salt, and no dates or versions in the metadata, so regenerating them
leaves no diff.
"""

import io
import re

from .report import overlaps, peak

_STYLE = {
    "font.family": "DejaVu Sans",  # bundled with matplotlib: no system font lookup
    "font.size": 8,
    "svg.hashsalt": "fdt-mlir",
}
_COLOURS = {"input": "#8fd18f", "output": "#f6a35c", "buffer": "#b7cde6"}
_PEAK = "#d62728"
_SHARED = "#6a3d9a"  # the hatch over bytes an output shares with the input it consumes


def rectangles(buffers: list[dict]) -> list[tuple[int, int, int, int, str]]:
    """(x, y, width, height, label) per buffer. Lifetimes are inclusive, so a
    buffer live at one step is one step wide; the label is the TFLite op
    that produced it (the name for model inputs, which have none)."""
    return [
        (b["first_op"], b["offset"], b["last_op"] + 1 - b["first_op"], b["bytes"], b.get("producer") or b["name"])
        for b in buffers
    ]


def shared_rectangles(buffers: list[dict]) -> list[tuple[int, int, int, int, str]]:
    """(x, y, width, height, label) per pair of buffers that share bytes
    (report.overlaps): the steps both are live by the bytes both hold; the
    label names the output and the input it was written over."""
    by_name = {b["name"]: b for b in buffers}
    found = []
    for pair in overlaps(buffers):
        a, b = by_name[pair["output"]], by_name[pair["input"]]
        first, last = max(a["first_op"], b["first_op"]), min(a["last_op"], b["last_op"])
        low = max(a["offset"], b["offset"])
        label = f"{a.get('producer') or a['name']} over {b.get('producer') or b['name']}"
        found.append((first, low, last + 1 - first, pair["shared_bytes"], label))
    return found


def arena_files(report: dict) -> dict[str, bytes]:
    """M.arena.png and M.arena.svg: the arena over time, before tiling (as the
    cost model predicts it) and after (as lowered and planned)."""
    # Imported here: the driver imports this module on every run, and
    # matplotlib takes a third of a second to import.
    import matplotlib.style

    panels = [(report["buffers"], report["arena_bytes"], "lowered program", "buffer")]
    if "buffers_untiled" in report:
        panels = [
            (report["buffers_untiled"], report["arena_bytes_untiled"], "before tiling (cost model)", "untiled-buffer"),
            (report["buffers"], report["arena_bytes"], "after tiling (lowered)", "buffer"),
        ]
    top = 1.08 * max(arena for _, arena, _, _ in panels)
    title = f"{report['model']}: arena {report['arena_bytes']} B"
    if "arena_bytes_untiled" in report:
        title += f" (untiled {report['arena_bytes_untiled']} B)"
    title += "".join(f"\npath {p}" for p in report["paths"]) or ("\nno tiling path applied" if len(panels) > 1 else "")
    with matplotlib.style.context(["default", _STYLE]):
        fig = _figure(6.5 * len(panels), 5)
        axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
        labels = [label for ax, panel in zip(axes, panels) for label in _arena_panel(ax, *panel)]
        axes[0].set_ylim(0, top)
        axes[0].set_ylabel("byte offset")
        fig.suptitle(title)
        _legend(fig)
        _keep_fitting(fig, labels)
        return _files(fig, f"{report['model']}.arena")


def _arena_panel(ax, buffers, arena, title, gid_prefix):
    """Draws one program's buffers; returns (label, rectangle) pairs to fit.
    When the inputs wait alone for over half the program (the lowered one
    loads every constant first), the x axis starts shortly before the first
    other buffer, and the inputs run off its left edge, rather than squeezing
    the rest into a sliver."""
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import MaxNLocator

    first = min([b["first_op"] for b in buffers if _kind(b) != "input"] or [0])
    end = max(b["last_op"] for b in buffers) + 1
    start = max(0, round(first - 0.05 * (end - first) - 1)) if first > end / 2 else 0
    labels = []
    for b, (x, y, width, height, text) in zip(buffers, rectangles(buffers)):
        rect = Rectangle((x, y), width, height, facecolor=_COLOURS[_kind(b)], edgecolor="black", linewidth=0.5)
        rect.set_gid(f"{gid_prefix}-{re.sub(r'[^A-Za-z0-9_.-]', '_', b['name'])}")
        ax.add_patch(rect)
        label = ax.text((max(x, start) + x + width) / 2, y + height / 2, text, ha="center", va="center", fontsize=6)
        label.set_in_layout(False)
        labels.append((label, rect))
    for n, (x, y, width, height, _) in enumerate(shared_rectangles(buffers)):
        shared = Rectangle((x, y), width, height, facecolor="none", edgecolor=_SHARED, hatch="////", linewidth=0.8)
        shared.set_gid(f"shared-{gid_prefix}-{n}")
        ax.add_patch(shared)
    ax.axhline(arena, color="black", linestyle="--", linewidth=1)
    step, live, shared = peak(buffers, overlaps(buffers))
    ax.axvspan(step, step + 1, color=_PEAK, alpha=0.2, linewidth=0, zorder=0.5)
    ax.axvline(step + 0.5, color=_PEAK, linewidth=0.8)
    left = step + 0.5 < (start + end) / 2
    ax.annotate(
        f" peak: {sum(b['bytes'] for b in live)} B live at step {step}"
        + (f", {shared} B of them shared " if shared else " "),
        (step + 0.5, 0.98),
        xycoords=("data", "axes fraction"),
        ha="left" if left else "right",
        va="top",
        color=_PEAK,
    )
    ax.set_xlim(start, end)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.ticklabel_format(axis="y", style="plain")
    ax.set_xlabel("schedule step" + (f" (before step {start} only the inputs are live)" if start else ""))
    ax.set_title(f"{title}: {len(buffers)} buffers, arena {arena} B")
    return labels


def _kind(buffer):
    """input, output or buffer, by name, as the report's byte counts tell them apart."""
    return next((k for k in ("input", "output") if buffer["name"].startswith(k)), "buffer")


def _legend(fig):
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=c, edgecolor="black", linewidth=0.5, label=k) for k, c in _COLOURS.items()]
    handles += [
        Line2D([], [], color="black", linestyle="--", label="arena size"),
        Patch(facecolor=_PEAK, alpha=0.4, label="peak step (most live bytes)"),
        Patch(facecolor="none", edgecolor=_SHARED, hatch="////", label="output over its consumed input"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=3)


def _keep_fitting(fig, labels):
    """Keeps each label only where it fits inside its rectangle, turned
    upright if only that way fits: overlapping text is unreadable."""
    from matplotlib.transforms import Bbox

    fig.canvas.draw()  # lays the figure out, so that extents are final
    renderer = fig.canvas.get_renderer()
    for label, rect in labels:
        box = Bbox.intersection(rect.get_window_extent(renderer), rect.axes.bbox)
        box = box.padded(-3) if box else Bbox.null()
        for rotation in (0, 90):
            label.set_rotation(rotation)
            text = label.get_window_extent(renderer)
            if text.width <= box.width and text.height <= box.height:
                break
        else:
            label.remove()


def front_files(report: dict, head: int | None = None) -> dict[str, bytes]:
    """M.pareto.png and M.pareto.svg: the report's Pareto front (`--pareto`
    or `--ram-budget`) as arena against MACs, a step per point, the emitted
    design circled; the untiled arena, the floor (largest input or output)
    and, if given, TFLM's arena (`head`) as lines, and the RAM budget."""
    import matplotlib.style

    front = report["pareto"]
    floor = max(report["input_bytes"], report["output_bytes"])
    with matplotlib.style.context(["default", _STYLE]):
        fig = _figure(6.5, 4.5)
        ax = fig.subplots()
        macs = [p["macs"] for p in front]
        arenas = [p["arena_bytes"] for p in front]
        ax.step(macs, arenas, where="post", color="C0", linewidth=1, gid="front")
        ax.plot(macs, arenas, "o", color="C0", label="Pareto front", gid="front-points")
        for p in front:
            ax.annotate(
                " ".join(p["compact"]) or "untiled",
                (p["macs"], p["arena_bytes"]),
                fontsize=6,
                xytext=(4, 4),
                textcoords="offset points",
            )
        chosen = [p for p in front if p["chosen"]]
        ax.plot(
            [p["macs"] for p in chosen],
            [p["arena_bytes"] for p in chosen],
            "o",
            markersize=12,
            markerfacecolor="none",
            color=_PEAK,
            label="emitted",
            gid="chosen",
        )
        lines = [
            ("untiled", report.get("arena_bytes_untiled", report["arena_bytes"]), "grey", "--"),
            ("floor", floor, "black", "-"),
        ]
        if head is not None:
            lines.append(("TFLM", head, "C2", ":"))
        if "ram_budget" in report:
            lines.append(("RAM budget", report["ram_budget"], _PEAK, "-."))
        for label, y, colour, style in lines:
            ax.axhline(y, color=colour, linestyle=style, linewidth=1, label=label, gid=label.replace(" ", "-"))
        ax.set_xlabel("MACs")
        ax.set_ylabel("arena bytes")
        ax.set_ylim(0, 1.1 * max(y for _, y, _, _ in lines))
        ax.legend(loc="upper left", bbox_to_anchor=(1, 1), fontsize=7)
        fig.suptitle(f"{report['model']}: arena against MACs")
        return _files(fig, f"{report['model']}.pareto")


def evaluation_files(models: list[dict], modes: list[str], stem: str) -> dict[str, bytes]:
    """STEM.png and STEM.svg: per model, each mode's arena relative to TFLM's
    (the "head"), with the floor (largest input or output, which no tiling
    removes) marked; models without the numbers are left out and named."""
    # Imported here: the driver imports this module on every run, and
    # matplotlib takes a third of a second to import.
    import matplotlib.style

    skipped = [f"{m['model']} ({_unplotted(m, modes)})" for m in models if _unplotted(m, modes)]
    shown = [m for m in models if not _unplotted(m, modes)]
    width = 0.8 / len(modes)
    with matplotlib.style.context(["default", _STYLE]):
        fig = _figure(max(6, 1.2 * len(shown) + 2), 4.5)
        ax = fig.subplots()
        handles = []
        for i, mode in enumerate(modes):
            xs = [g + (i - (len(modes) - 1) / 2) * width for g in range(len(shown))]
            ratios = [m["runs"][mode]["arena"] / m["head"] for m in shown]
            bars = ax.bar(xs, ratios, width, label=mode, color=f"C{i}")
            handles.append(bars)
            for bar, m in zip(bars, shown):
                bar.set_gid(f"bar-{m['model']}-{mode}")
            ax.bar_label(bars, [f"{r:.2f}" for r in ratios], rotation=90, padding=2, fontsize=6)
        floors = [
            ax.hlines(
                m["floor"] / m["head"],
                g - 0.45,
                g + 0.45,
                colors="black",
                linewidth=2,
                label="floor",
                gid=f"floor-{m['model']}",
            )
            for g, m in enumerate(shown)
        ]
        handles += floors[:1]
        handles.append(ax.axhline(1.0, color="grey", linestyle="--", linewidth=1, label="TFLM"))
        ax.set_xticks(range(len(shown)), [m["model"] for m in shown])
        ax.set_ylabel("arena / TFLM arena")
        ax.set_ylim(0, 1.15 * max([1.0, *(m["runs"][mode]["arena"] / m["head"] for m in shown for mode in modes)]))
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1, 1), fontsize=7)
        title = "arena relative to TFLM (lower is better)"
        fig.suptitle(title + (f"\nnot shown: {', '.join(skipped)}" if skipped else ""))
        return _files(fig, stem)


def _unplotted(model, modes) -> str | None:
    """Why a model has no bars, if it has none: without every mode's arena
    and TFLM's (ONNX models have no TFLM head) there is no ratio to draw."""
    if model.get("error") or not all(mode in model.get("runs", {}) for mode in modes):
        return "failed"
    return None if model.get("head") else "no TFLM head"


def _figure(width, height):
    """A figure on its own Agg canvas: no pyplot, no global figure state."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=120, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _files(fig, stem: str) -> dict[str, bytes]:
    """PNG and SVG bytes, without the date and version stamps."""
    files = {}
    for fmt, metadata in (("png", {"Software": None}), ("svg", {"Date": None, "Creator": None})):
        out = io.BytesIO()
        fig.savefig(out, format=fmt, metadata=metadata)
        files[f"{stem}.{fmt}"] = out.getvalue()
    return files
