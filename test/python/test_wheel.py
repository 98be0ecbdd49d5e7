"""A non-editable install works: the wheel carries the `fdt` dialect's IRDL
file, and a fresh virtual environment with only the wheel (and its declared
dependencies) compiles the example model from outside the source tree."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(command, cwd):
    done = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(map(str, command))}: {done.stderr.strip()[-1500:]}"
    return done.stdout


def test_wheel_installs_and_compiles_the_example(tmp_path):
    # A copy of the sources, so that the build leaves nothing in the tree.
    source = tmp_path / "source"
    shutil.copytree(ROOT / "fdt_mlir", source / "fdt_mlir", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp_path / "dist", source], tmp_path)
    (wheel,) = (tmp_path / "dist").glob("fdt_mlir-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "fdt_mlir/dialect/fdt.irdl.mlir" in names
    assert "fdt_mlir/ukernels/dot_s8.c" in names

    venv = tmp_path / "venv"
    # The base interpreter, not this virtual environment's: a fresh one.
    _run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", venv], tmp_path)
    _run([venv / "bin" / "pip", "install", "-q", wheel], tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    where = _run([venv / "bin" / "python", "-c", "import fdt_mlir; print(fdt_mlir.__file__)"], work)
    assert Path(where.strip()).is_relative_to(venv), where
    _run([venv / "bin" / "fdt-example", "example.tflite"], work)
    report = _run(
        [venv / "bin" / "fdt-opt-mlir", "example.tflite", "--tiling", "fdt", "--emit", "c", "-o", "out"], work
    )
    assert report.startswith("example: arena ")
    assert sorted(p.name for p in (work / "out").iterdir()) == ["example.c", "example.h", "example.report.json"]
