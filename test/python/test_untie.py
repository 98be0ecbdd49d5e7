"""rewrites/untie.py: values CSE shares between kernels get one copy per kernel."""

from mlir import ir

from fdt_mlir.analysis.kernels import function_body, location_name
from fdt_mlir.dialect import make_context
from fdt_mlir.rewrites.untie import untie_initializer_loops

# Two kernels (Conv:1, Conv:2) accumulate into one tiled fill: CSE merged
# their identical fill loops into the first one.
SHARED_FILL_LOOP = """
#id = affine_map<(d0) -> (d0)>
func.func @f(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4xf32>
  %fill = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %e) -> (tensor<4xf32>) {
    %t = tensor.insert %z into %acc[%i] : tensor<4xf32>
    scf.yield %t : tensor<4xf32>
  } loc("Conv:1")
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<4xf32>) outs(%fill : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  } -> tensor<4xf32> loc("Conv:1")
  %m = arith.mulf %z, %z : f32 loc("Other:0")
  %b = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%a : tensor<4xf32>) outs(%fill : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  } -> tensor<4xf32> loc("Conv:2")
  return %a, %b : tensor<4xf32>, tensor<4xf32>
}
"""


def test_a_shared_fill_loop_gets_a_copy_before_each_kernel():
    with make_context():
        module = ir.Module.parse(SHARED_FILL_LOOP)
        body = function_body(module.operation)
        untie_initializer_loops(body)
        assert module.operation.verify()
        ops = [op.operation for op in body.operations]
        sequence = [(op.name, location_name(op)) for op in ops if op.name in ("scf.for", "linalg.generic")]
        assert sequence == [
            ("scf.for", "Conv:1"),
            ("linalg.generic", "Conv:1"),
            ("scf.for", "Conv:2"),
            ("linalg.generic", "Conv:2"),
        ]
        loops = [op for op in ops if op.name == "scf.for"]
        generics = [op for op in ops if op.name == "linalg.generic"]
        for loop, generic in zip(loops, generics):
            assert [use.owner.operation for use in loop.results[0].uses] == [generic]


def test_a_loop_reading_a_tensor_is_not_an_initializer():
    """A loop that reads %x computes from an activation: it is a kernel, never copied."""
    text = SHARED_FILL_LOOP.replace(
        "%t = tensor.insert %z into", "%v = tensor.extract %x[%i] : tensor<4xf32>\n    %t = tensor.insert %v into"
    )
    with make_context():
        module = ir.Module.parse(text)
        body = function_body(module.operation)
        untie_initializer_loops(body)
        assert sum(op.operation.name == "scf.for" for op in body.operations) == 1
