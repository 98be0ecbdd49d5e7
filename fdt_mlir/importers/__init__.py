"""Model files -> an MLIR module with one function named after the model."""

import importlib.util
import re
from pathlib import Path

from mlir import ir

from ..errors import FdtError


def model_name(path: str) -> str:
    """A C identifier from the file name (the prefix of the generated API)."""
    stem = Path(path).stem if path != "-" else "model"
    name = re.sub(r"[^A-Za-z0-9_]", "_", stem)
    return name if name and not name[0].isdigit() else f"m_{name}"


def load(path: str, name: str) -> ir.Module:
    """Imports a .tflite or .onnx model, or parses .mlir text (or stdin)."""
    suffix = Path(path).suffix.lower() if path != "-" else ".mlir"
    if suffix == ".tflite":
        from .tflite import import_tflite

        return import_tflite(path, name)
    if suffix == ".onnx":
        if importlib.util.find_spec("onnx") is None:
            raise FdtError(f"'{path}': reading .onnx models needs the onnx extra: pip install 'fdt-mlir[onnx]'")
        from .onnx import import_onnx

        return import_onnx(path, name)
    if suffix == ".mlir":
        from .mlir_text import parse_mlir

        return parse_mlir(path)
    raise FdtError(f"'{path}': unknown input format (expected .tflite, .onnx or .mlir)")
