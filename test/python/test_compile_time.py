"""fdt-bench-compile: cold compiles with one and several workers, one table row each."""

from fdt_mlir.evaluation import compile_time
from fdt_mlir.testing.target_models import mlp_model


def test_benchmark_prints_a_row_per_model(tmp_path, capsys):
    path = tmp_path / "mlp.tflite"
    path.write_bytes(mlp_model(hidden=256))
    assert compile_time.main([str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3, lines
    cells = [c.strip() for c in lines[2].strip("|").split("|")]
    assert cells[0] == "mlp"
    # The 256-float hidden layer above the 16-byte input, tiled away by FDT.
    assert int(cells[1]) < 256 * 4
    assert all(float(c) > 0 for c in cells[2:])
