"""Random small networks, compiled untiled, against TFLM.

Fused tiling must give exactly what the untiled code gives; that comparison
means something only if the untiled code is exact on the same networks, for
every mix of layers the generator makes: spatial chains of every operator
the compiler supports, dense stacks and recurrent networks
(`fdt_mlir.testing.random_networks`). Seeds 0-39 are int8 (bit-exact),
40-59 float32 (within float rounding). The input sets go through one C
model and one TFLM interpreter in sequence, so that recurrent state carries
over alike.
"""

import numpy as np
import pytest

from fdt_mlir.cli import fdt_opt_mlir as driver
from fdt_mlir.testing.cmodel import CModel
from fdt_mlir.testing.random_networks import describe_network, random_network
from fdt_mlir.testing.tflm import random_inputs, run_tflm_invokes

INPUT_SETS = 5
SEEDS = [(seed, np.int8) for seed in range(40)] + [(seed, np.float32) for seed in range(40, 60)]


def assert_close(want, got, message):
    """int8 bit for bit; float32 within 1e-5 of the output's range, or of
    its magnitude when all outputs are close."""
    if want.dtype == np.float32:
        scale = max(float(np.ptp(want)), float(np.max(np.abs(want))), 1e-30)
        error = float(np.max(np.abs(want - got)))
        assert error <= 1e-5 * scale, f"{message}: max error {error:.3g}, scale {scale:.3g}"
    else:
        assert got.dtype == want.dtype, message
        np.testing.assert_array_equal(got, want, err_msg=message)


@pytest.mark.parametrize("seed,dtype", SEEDS, ids=[f"{np.dtype(d).name}-{s}" for s, d in SEEDS])
def test_random_network_matches_tflm(tmp_path, capsys, seed, dtype):
    model = random_network(seed, dtype)
    layers = "\n  ".join(describe_network(seed, dtype))
    path = tmp_path / f"net{seed}.tflite"
    path.write_bytes(model)
    outdir = tmp_path / "out"
    status = driver.main([str(path), "--emit", "c", "-o", str(outdir)])
    assert status == 0, f"seed {seed} does not compile:\n  {layers}\n{capsys.readouterr().err}"
    cmodel = CModel(outdir, f"net{seed}")
    input_sets = random_inputs(model, INPUT_SETS, seed=seed)
    for i, (inputs, wants) in enumerate(zip(input_sets, run_tflm_invokes(model, input_sets))):
        for want, got in zip(wants, cmodel.run(inputs)):
            assert_close(want, got.reshape(want.shape), f"seed {seed}, input set {i}:\n  {layers}")
