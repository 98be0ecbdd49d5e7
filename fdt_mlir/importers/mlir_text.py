"""Textual MLIR input (linalg on tensors, TOSA, or any stage of the flow)."""

import re
import sys

from mlir import ir

from ..errors import FdtError


def read_text(path: str) -> str:
    try:
        return sys.stdin.read() if path == "-" else open(path).read()
    except OSError as e:
        raise FdtError(f"cannot read '{path}': {e.strerror}") from None


def split_input(path: str) -> list[str]:
    """mlir-opt's --split-input-file: chunks separated by `// -----` lines."""
    return re.split(r"^// -----.*$", read_text(path), flags=re.MULTILINE)


def parse_mlir_text(text: str, path: str) -> ir.Module:
    try:
        return ir.Module.parse(text)
    except ir.MLIRError as e:
        d = e.error_diagnostics[0] if e.error_diagnostics else None
        where = f"{d.location}: {d.message}" if d else str(e)
        raise FdtError(f"cannot parse '{path}': {where.splitlines()[0]}") from None


def parse_mlir(path: str) -> ir.Module:
    return parse_mlir_text(read_text(path), path)
