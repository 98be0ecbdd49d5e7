"""Tiling plans: paths of kernels to run slice by slice.

A plan is text, one path per line (`#` starts a comment):

    fdt c 4 : CONV_2D:0 < DEPTHWISE_CONV_2D:1 = CONV_2D:2 >
    ffmt h 3 : CONV_2D:0 MAX_POOL_2D:1 CONV_2D:2
    ffmt hw 3x3 : CONV_2D:0 MAX_POOL_2D:1

FAMILY is `fdt` (split the channel/feature axis `c`; every kernel gets a
role) or `ffmt` (split the spatial axis `h`, `w`, or both as an n x n grid
`hw`). In the IR each path is an `fdt.path` op at module level
(`dialect.ops`), so a plan can also be written by hand in a .mlir file and
printed back.

The report also writes each path compactly (Path.compact), one character
per kernel and then the partitions: the three paths above are `<=> x 4`,
`--- x 3` and `## 3x3`.
"""

import re
from dataclasses import dataclass

from .errors import FdtError

ROLES = "<=>~"
AXES = {"fdt": ("c",), "ffmt": ("h", "w", "hw")}
FFMT_MARKS = {"h": "-", "w": "|", "hw": "#"}  # the compact notation, one per kernel


@dataclass(frozen=True)
class Path:
    family: str
    axis: str
    parts: tuple
    kernels: tuple
    roles: str

    def notation(self) -> str:
        """The one-line form of the plan file (and of the report)."""
        return f"{self.family} {self.axis} {'x'.join(map(str, self.parts))} : {self.chain()}"

    def chain(self) -> str:
        """The kernels, each with its role for FDT: the notation after ' : '."""
        if self.family == "fdt":
            return " ".join(f"{k} {r}" for k, r in zip(self.kernels, self.roles))
        return " ".join(self.kernels)

    def compact(self) -> str:
        """One character per kernel, then the partition count: FDT writes
        each kernel's role (`<==> x 4`), FFMT the axis it splits, `-` rows
        (`--- x 3`), `|` columns (`|| x 2`) or `#` an n x n grid (`## 3x3`)."""
        if self.family == "fdt":
            marks = self.roles
        else:
            marks = FFMT_MARKS[self.axis] * len(self.kernels)
        if len(self.parts) == 1:
            return f"{marks} x {self.parts[0]}"
        return f"{marks} {'x'.join(map(str, self.parts))}"


def parse_plan(text: str, source: str = "plan") -> list[Path]:
    paths = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if line:
            paths.append(_parse_path(line, f"{source}:{number}"))
    if not paths:
        raise FdtError(f"{source}: the plan has no path")
    return paths


def _parse_path(line: str, where: str) -> Path:
    # Kernel names contain ':' too; the separator is the first ' : '.
    head, sep, body = line.partition(" : ")
    words = head.split()
    if not sep or len(words) != 3:
        raise FdtError(f"{where}: expected 'FAMILY AXIS PARTS : KERNELS...', got '{line}'")
    family, axis, parts_text = words
    if family not in AXES:
        raise FdtError(f"{where}: unknown family '{family}' (fdt or ffmt)")
    if axis not in AXES[family]:
        raise FdtError(f"{where}: {family} splits axis {' or '.join(AXES[family])}, not '{axis}'")
    if not re.fullmatch(r"\d+(x\d+)?", parts_text):
        raise FdtError(f"{where}: partition count '{parts_text}' is not N or NxN")
    parts = tuple(int(p) for p in parts_text.split("x"))
    if len(parts) != len(axis) or any(p < 1 for p in parts):
        raise FdtError(f"{where}: axis '{axis}' needs {len(axis)} partition count(s) of at least 1, got '{parts_text}'")
    tokens = body.split()
    if family == "fdt":
        if len(tokens) % 2 or not tokens:
            raise FdtError(f"{where}: an fdt path is pairs of KERNEL ROLE, got '{body.strip()}'")
        kernels, roles = tokens[0::2], tokens[1::2]
        bad = [r for r in roles if r not in ROLES]
        if bad:
            raise FdtError(f"{where}: unknown role '{bad[0]}' (one of {' '.join(ROLES)})")
        return Path(family, axis, parts, tuple(kernels), "".join(roles))
    if not tokens:
        raise FdtError(f"{where}: the path names no kernel")
    return Path(family, axis, parts, tuple(tokens), "s" * len(tokens))
