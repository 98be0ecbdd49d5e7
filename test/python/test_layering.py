"""The import graph keeps the layers one-way (issue 11): passes never import
one another, the lower layers never import the stages above them, and no
product module imports test support or a reference runtime."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "fdt_mlir"

# The stages below the search (importers, IR, passes, planners, emitters) and
# their helpers: they may not reach the search, the cost model, the driver,
# the library API, the report or the evaluation.
LOWER = (
    "fdt_mlir.importers",
    "fdt_mlir.dialect",
    "fdt_mlir.passes",
    "fdt_mlir.analysis",
    "fdt_mlir.rewrites",
    "fdt_mlir.planning",
    "fdt_mlir.pipeline",
    "fdt_mlir.emit",
    "fdt_mlir.ukernels",
    "fdt_mlir.ir_utils",
    "fdt_mlir.tiling_plan",
    "fdt_mlir.c_types",
    "fdt_mlir.errors",
)
UPPER = (
    "fdt_mlir.search",
    "fdt_mlir.api",
    "fdt_mlir.cli",
    "fdt_mlir.evaluation",
    "fdt_mlir.report",
    "fdt_mlir.plots",
)
# Only the tests and fdt_mlir.testing may import these.
TEST_ONLY = ("fdt_mlir.testing", "tflite_micro", "onnxruntime", "torch_mlir", "iree.runtime", "pytest")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, relative imports resolved, names
    imported from a package counted as its submodules too."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            found.add(source)
            found.update(f"{source}.{alias.name}" for alias in node.names)
    return found


def _within(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


MODULES = {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_the_graph_is_read():
    """The checks below see the package: the pass modules and what they import."""
    assert "fdt_mlir.passes.apply_plan" in MODULES
    assert "fdt_mlir.rewrites.tile_and_fuse" in MODULES["fdt_mlir.passes.apply_plan"]
    assert "fdt_mlir.passes.register" in MODULES["fdt_mlir.passes.apply_plan"]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("fdt_mlir.passes.")))
def test_no_pass_imports_another_pass(module):
    """passes/ holds passes and their registry: shared code lives elsewhere."""
    others = {
        name
        for name in MODULES[module]
        if name.startswith("fdt_mlir.passes.") and name not in ("fdt_mlir.passes.register",)
    }
    assert not others, f"{module} imports {sorted(others)}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _within(m, LOWER)))
def test_lower_layers_do_not_import_the_stages_above(module):
    above = sorted(name for name in MODULES[module] if _within(name, UPPER))
    assert not above, f"{module} imports {above}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not _within(m, ("fdt_mlir.testing",))))
def test_product_code_imports_no_test_support(module):
    test_only = sorted(name for name in MODULES[module] if _within(name, TEST_ONLY))
    assert not test_only, f"{module} imports {test_only}"
