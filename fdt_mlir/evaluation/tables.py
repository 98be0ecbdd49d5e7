"""What the benchmarks' tables share: Markdown tables, ratios, geometric means."""

import math


def markdown_table(header: list, rows: list[list]) -> list[str]:
    """A GitHub-flavoured Markdown table, readable as plain text too: the
    first column left-aligned, the others (numbers) right-aligned."""
    cells = [[str(c) for c in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row):
        return (
            "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))) + " |"
        )

    rule = "|" + "|".join("-" * (w + 1) + ":" if i else ":" + "-" * (w + 1) for i, w in enumerate(widths)) + "|"
    return [line(cells[0]), rule, *(line(row) for row in cells[1:])]


def ratio(a, b, digits: int) -> str:
    """a / b with `digits` decimals, or n/a without both."""
    return f"{a / b:.{digits}f}" if a is not None and b else "n/a"


def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))
