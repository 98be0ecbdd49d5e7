"""Abstract execution of tile loops (fdt_mlir/analysis/abstract_execution.py) on hand-written
linalg on tensors: MACs summed over the real tile sizes, and the largest
shape each dynamically sized tile takes."""

import pytest
from mlir import ir

from fdt_mlir.analysis.abstract_execution import count_macs, execute
from fdt_mlir.dialect import make_context

MATMUL_MAPS = """
#mm_a = affine_map<(m, n, k) -> (m, k)>
#mm_b = affine_map<(m, n, k) -> (k, n)>
#mm_c = affine_map<(m, n, k) -> (m, n)>
#lhs = affine_map<(m, n) -> (m, n)>
"""


def _matmul(name, a, b, c, types):
    """A matmul as a linalg.generic: c[m, n] += a[m, k] * b[k, n]."""
    ta, tb, tc = types
    return f"""
    {name} = linalg.generic {{indexing_maps = [#mm_a, #mm_b, #mm_c],
                               iterator_types = ["parallel", "parallel", "reduction"]}}
        ins({a}, {b} : {ta}, {tb}) outs({c} : {tc}) {{
    ^bb0(%x: f32, %y: f32, %o: f32):
      %p = arith.mulf %x, %y : f32
      %s = arith.addf %o, %p : f32
      linalg.yield %s : f32
    }} -> {tc}"""


@pytest.fixture
def module():
    """Parses a module in a context alive for the whole test; returns its op."""
    with make_context(), ir.Location.unknown():
        kept = []

        def parse(text):
            kept.append(ir.Module.parse(MATMUL_MAPS + text))
            return kept[-1].operation

        yield parse


def test_matmul_macs_are_the_product_of_its_trip_counts(module):
    """An untiled 4x3 by 3x5 matmul: one MAC per (m, n, k)."""
    text = f"""
func.func @f(%a: tensor<4x3xf32>, %b: tensor<3x5xf32>, %c: tensor<4x5xf32>) -> tensor<4x5xf32> {{
  {_matmul("%r", "%a", "%b", "%c", ("tensor<4x3xf32>", "tensor<3x5xf32>", "tensor<4x5xf32>"))}
  return %r : tensor<4x5xf32>
}}"""
    # m = 4, n = 5, k = 3.
    assert count_macs(module(text)) == 4 * 5 * 3


def test_generics_without_a_multiply_or_a_reduction_count_no_macs(module):
    """A sum (reduction, no multiply) and an elementwise product (multiply,
    no reduction) are not multiply-accumulates."""
    text = """
#row = affine_map<(m, k) -> (m, k)>
#acc = affine_map<(m, k) -> (m)>
func.func @f(%a: tensor<4x3xf32>, %s0: tensor<4xf32>, %p0: tensor<4x3xf32>) -> (tensor<4xf32>, tensor<4x3xf32>) {
  %s = linalg.generic {indexing_maps = [#row, #acc], iterator_types = ["parallel", "reduction"]}
      ins(%a : tensor<4x3xf32>) outs(%s0 : tensor<4xf32>) {
  ^bb0(%x: f32, %o: f32):
    %t = arith.addf %o, %x : f32
    linalg.yield %t : f32
  } -> tensor<4xf32>
  %p = linalg.generic {indexing_maps = [#row, #row, #row], iterator_types = ["parallel", "parallel"]}
      ins(%a, %a : tensor<4x3xf32>, tensor<4x3xf32>) outs(%p0 : tensor<4x3xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %t = arith.mulf %x, %y : f32
    linalg.yield %t : f32
  } -> tensor<4x3xf32>
  return %s, %p : tensor<4xf32>, tensor<4x3xf32>
}"""
    assert count_macs(module(text)) == 0


# Rows 0..10 in tiles of 4: the last tile has 10 - 8 = 2 rows. The tile size
# is computed either by affine.min or by arith ops on the induction variable.
SIZE_BY_AFFINE = "%n = affine.min affine_map<(d0) -> (4, -d0 + 10)>(%i)"
SIZE_BY_ARITH = "%left = arith.subi %c10, %i : index\n      %n = arith.minsi %left, %c4 : index"


def _row_tiles(size):
    return f"""
func.func @f(%a: tensor<10x3xf32>, %b: tensor<3x5xf32>, %init: tensor<10x5xf32>) -> tensor<10x5xf32> {{
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c10 = arith.constant 10 : index
  %r = scf.for %i = %c0 to %c10 step %c4 iter_args(%acc = %init) -> (tensor<10x5xf32>) {{
      {size}
      %sa = tensor.extract_slice %a[%i, 0] [%n, 3] [1, 1] : tensor<10x3xf32> to tensor<?x3xf32>
      %e = tensor.empty(%n) : tensor<?x5xf32>
      {_matmul("%t", "%sa", "%b", "%e", ("tensor<?x3xf32>", "tensor<3x5xf32>", "tensor<?x5xf32>"))}
      %u = tensor.insert_slice %t into %acc[%i, 0] [%n, 5] [1, 1] : tensor<?x5xf32> into tensor<10x5xf32>
      scf.yield %u : tensor<10x5xf32>
  }}
  return %r : tensor<10x5xf32>
}}"""


@pytest.mark.parametrize("size", [SIZE_BY_AFFINE, SIZE_BY_ARITH], ids=["affine.min", "arith"])
def test_uneven_last_tile_counts_its_real_size(module, size):
    """Tiles of 4, 4 and 2 rows: the MACs sum the real tile sizes and the
    dynamic tile buffer is at most 4 rows."""
    run = execute(module(_row_tiles(size)))
    # (4 + 4 + 2) rows x 5 columns x 3 reduced: the untiled 10x5x3.
    assert run.macs == (4 + 4 + 2) * 5 * 3
    # One dynamic tensor.empty: its largest shape is the full tile, 4x5.
    assert [op.name for op in run.largest] == ["tensor.empty"]
    assert list(run.largest.values()) == [[4, 5]]


def test_two_level_tiles_take_the_largest_extent_per_axis(module):
    """Rows in tiles of 4, 4, 2 and columns in tiles of 3, 2: the largest
    tile is taken axis by axis, 4x3."""
    text = f"""
func.func @f(%a: tensor<10x3xf32>, %b: tensor<3x5xf32>, %init: tensor<10x5xf32>) -> tensor<10x5xf32> {{
  %c0 = arith.constant 0 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c5 = arith.constant 5 : index
  %c10 = arith.constant 10 : index
  %r = scf.for %i = %c0 to %c10 step %c4 iter_args(%acc = %init) -> (tensor<10x5xf32>) {{
    %n = affine.min affine_map<(d0) -> (4, -d0 + 10)>(%i)
    %inner = scf.for %j = %c0 to %c5 step %c3 iter_args(%acc2 = %acc) -> (tensor<10x5xf32>) {{
      %m = affine.min affine_map<(d0) -> (3, -d0 + 5)>(%j)
      %sa = tensor.extract_slice %a[%i, 0] [%n, 3] [1, 1] : tensor<10x3xf32> to tensor<?x3xf32>
      %sb = tensor.extract_slice %b[0, %j] [3, %m] [1, 1] : tensor<3x5xf32> to tensor<3x?xf32>
      %e = tensor.empty(%n, %m) : tensor<?x?xf32>
      {_matmul("%t", "%sa", "%sb", "%e", ("tensor<?x3xf32>", "tensor<3x?xf32>", "tensor<?x?xf32>"))}
      %u = tensor.insert_slice %t into %acc2[%i, %j] [%n, %m] [1, 1] : tensor<?x?xf32> into tensor<10x5xf32>
      scf.yield %u : tensor<10x5xf32>
    }}
    scf.yield %inner : tensor<10x5xf32>
  }}
  return %r : tensor<10x5xf32>
}}"""
    run = execute(module(text))
    # Tiles (rows x columns): 4x3, 4x2, 4x3, 4x2, 2x3, 2x2; each x 3 reduced:
    # (4 + 4 + 2) * (3 + 2) * 3.
    assert run.macs == 10 * 5 * 3
    assert list(run.largest.values()) == [[4, 3]]


# A 3-tap convolution along rows (same padding) of an 8x2 input into 8x3,
# tiled by 4 output rows: each tile reads rows i-1..i+4, clipped to 0..7,
# and pads the clipped row back (low 1 at the top tile, high 1 at the
# bottom one), so every padded tile has 4 + 2 = 6 rows; the slice alone
# has 5. A tensor.empty sized by tensor.dim of the padded tile records it.
HALO = """
#conv_in = affine_map<(r, co, ci, k) -> (r + k, ci)>
#conv_w = affine_map<(r, co, ci, k) -> (k, ci, co)>
#conv_out = affine_map<(r, co, ci, k) -> (r, co)>
#copy = affine_map<(r, c) -> (r, c)>
func.func @f(%x: tensor<8x2xf32>, %w: tensor<3x2x3xf32>, %init: tensor<8x3xf32>) -> tensor<8x3xf32> {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %r = scf.for %i = %c0 to %c8 step %c4 iter_args(%acc = %init) -> (tensor<8x3xf32>) {
    %start = affine.max affine_map<(d0) -> (d0 - 1, 0)>(%i)
    %end = affine.min affine_map<(d0) -> (d0 + 5, 8)>(%i)
    %rows = arith.subi %end, %start : index
    %top = arith.cmpi eq, %i, %c0 : index
    %bottom = arith.cmpi sge, %end, %c8 : index
    %lo = arith.select %top, %c1, %c0 : index
    %hi = arith.select %bottom, %c1, %c0 : index
    %s = tensor.extract_slice %x[%start, 0] [%rows, 2] [1, 1] : tensor<8x2xf32> to tensor<?x2xf32>
    %p = tensor.pad %s low[%lo, 0] high[%hi, 0] {
    ^bb0(%u: index, %v: index):
      tensor.yield %zero : f32
    } : tensor<?x2xf32> to tensor<?x2xf32>
    %d = tensor.dim %p, %c0 : tensor<?x2xf32>
    %e = tensor.empty(%d) : tensor<?x2xf32>
    %copied = linalg.generic {indexing_maps = [#copy, #copy], iterator_types = ["parallel", "parallel"]}
        ins(%p : tensor<?x2xf32>) outs(%e : tensor<?x2xf32>) {
    ^bb0(%a: f32, %o: f32):
      linalg.yield %a : f32
    } -> tensor<?x2xf32>
    %out = tensor.extract_slice %acc[%i, 0] [4, 3] [1, 1] : tensor<8x3xf32> to tensor<4x3xf32>
    %t = linalg.generic {indexing_maps = [#conv_in, #conv_w, #conv_out],
                         iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
        ins(%copied, %w : tensor<?x2xf32>, tensor<3x2x3xf32>) outs(%out : tensor<4x3xf32>) {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %m = arith.mulf %a, %b : f32
      %sum = arith.addf %o, %m : f32
      linalg.yield %sum : f32
    } -> tensor<4x3xf32>
    %y = tensor.insert_slice %t into %acc[%i, 0] [4, 3] [1, 1] : tensor<4x3xf32> into tensor<8x3xf32>
    scf.yield %y : tensor<8x3xf32>
  }
  return %r : tensor<8x3xf32>
}"""


def test_padded_halo_tile_adds_its_dynamic_padding(module):
    """A clipped halo slice (5 rows) padded by 1 row (top or bottom tile)
    gives 6-row tiles; the conv's MACs come from its output tile and weights."""
    run = execute(module(HALO))
    assert list(run.largest.values()) == [[6, 2]]
    # 2 tiles x (4 rows x 3 out channels x 2 in channels x 3 taps).
    assert run.macs == 2 * 4 * 3 * 2 * 3


# A loop with a dynamic tile (rows 10 in tiles of 4), one with static 5-row
# tiles only, and an untiled 4x3 by 3x5 matmul.
MIXED = f"""
func.func @f(%a: tensor<10x3xf32>, %b: tensor<3x5xf32>, %init: tensor<10x5xf32>,
             %a4: tensor<4x3xf32>, %c4x5: tensor<4x5xf32>) -> (tensor<10x5xf32>, tensor<10x5xf32>, tensor<4x5xf32>) {{
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c5 = arith.constant 5 : index
  %c10 = arith.constant 10 : index
  %dyn = scf.for %i = %c0 to %c10 step %c4 iter_args(%acc = %init) -> (tensor<10x5xf32>) {{
      %n = affine.min affine_map<(d0) -> (4, -d0 + 10)>(%i)
      %sa = tensor.extract_slice %a[%i, 0] [%n, 3] [1, 1] : tensor<10x3xf32> to tensor<?x3xf32>
      %e = tensor.empty(%n) : tensor<?x5xf32>
      {_matmul("%t", "%sa", "%b", "%e", ("tensor<?x3xf32>", "tensor<3x5xf32>", "tensor<?x5xf32>"))}
      %u = tensor.insert_slice %t into %acc[%i, 0] [%n, 5] [1, 1] : tensor<?x5xf32> into tensor<10x5xf32>
      scf.yield %u : tensor<10x5xf32>
  }}
  %static = scf.for %j = %c0 to %c10 step %c5 iter_args(%acc = %init) -> (tensor<10x5xf32>) {{
      %sa = tensor.extract_slice %a[%j, 0] [5, 3] [1, 1] : tensor<10x3xf32> to tensor<5x3xf32>
      %e = tensor.empty() : tensor<5x5xf32>
      {_matmul("%t", "%sa", "%b", "%e", ("tensor<5x3xf32>", "tensor<3x5xf32>", "tensor<5x5xf32>"))}
      %u = tensor.insert_slice %t into %acc[%j, 0] [5, 5] [1, 1] : tensor<5x5xf32> into tensor<10x5xf32>
      scf.yield %u : tensor<10x5xf32>
  }}
  {_matmul("%whole", "%a4", "%b", "%c4x5", ("tensor<4x3xf32>", "tensor<3x5xf32>", "tensor<4x5xf32>"))}
  return %dyn, %static, %whole : tensor<10x5xf32>, tensor<10x5xf32>, tensor<4x5xf32>
}}"""


def test_count_macs_runs_every_loop(module):
    """Both loops and the untiled matmul count."""
    # Dynamic loop: 10x5x3; static loop: 2 tiles of 5x5x3; untiled: 4x5x3.
    assert count_macs(module(MIXED)) == 150 + 150 + 60


def test_tiles_only_skips_loops_without_a_dynamic_tile(module):
    """With tiles_only the static-tile loop never runs (its MACs are missing),
    while the dynamic tile still gets its largest shape."""
    run = execute(module(MIXED), tiles_only=True)
    assert list(run.largest.values()) == [[4, 5]]
    # Dynamic loop (150) and the untiled matmul (60); the static loop's 150 are skipped.
    assert run.macs == 150 + 60


def test_tiles_only_runs_an_outer_loop_around_a_dynamic_tile(module):
    """A static outer loop that holds a dynamic tile in an inner loop runs."""
    text = f"""
func.func @f(%a: tensor<10x3xf32>, %b: tensor<3x5xf32>, %init: tensor<10x5xf32>) -> tensor<10x5xf32> {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c10 = arith.constant 10 : index
  %r = scf.for %rep = %c0 to %c2 step %c1 iter_args(%outer = %init) -> (tensor<10x5xf32>) {{
    %inner = scf.for %i = %c0 to %c10 step %c4 iter_args(%acc = %outer) -> (tensor<10x5xf32>) {{
      %n = affine.min affine_map<(d0) -> (4, -d0 + 10)>(%i)
      %sa = tensor.extract_slice %a[%i, 0] [%n, 3] [1, 1] : tensor<10x3xf32> to tensor<?x3xf32>
      %e = tensor.empty(%n) : tensor<?x5xf32>
      {_matmul("%t", "%sa", "%b", "%e", ("tensor<?x3xf32>", "tensor<3x5xf32>", "tensor<?x5xf32>"))}
      %u = tensor.insert_slice %t into %acc[%i, 0] [%n, 5] [1, 1] : tensor<?x5xf32> into tensor<10x5xf32>
      scf.yield %u : tensor<10x5xf32>
    }}
    scf.yield %inner : tensor<10x5xf32>
  }}
  return %r : tensor<10x5xf32>
}}"""
    run = execute(module(text), tiles_only=True)
    assert list(run.largest.values()) == [[4, 5]]
    # The outer loop runs twice, the inner one over 10 rows each time.
    assert run.macs == 2 * 10 * 5 * 3


def test_macs_add_up_over_functions(module):
    """Every function of the module is executed."""
    one = f"""
  func.func @NAME(%a: tensor<4x3xf32>, %b: tensor<3x5xf32>, %c: tensor<4x5xf32>) -> tensor<4x5xf32> {{
    {_matmul("%r", "%a", "%b", "%c", ("tensor<4x3xf32>", "tensor<3x5xf32>", "tensor<4x5xf32>"))}
    return %r : tensor<4x5xf32>
  }}"""
    text = one.replace("NAME", "f") + one.replace("NAME", "g")
    # Two 4x5x3 matmuls.
    assert count_macs(module(text)) == 2 * 60


def test_generated_and_expanded_tiles_take_their_operands_extents(module):
    """A dynamic tensor.generate (an all-padding tile) and tensor.expand_shape
    (a tile of a reshape) are sized by their operands: they were sized by
    their last operand, an index, as if it were a tensor (fdt-bound-tiles
    failed on random networks 2043 and 1063)."""
    text = """
func.func @f(%init: tensor<10x1x5xf32>) -> tensor<10x1x5xf32> {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c10 = arith.constant 10 : index
  %zero = arith.constant 0.0 : f32
  %r = scf.for %i = %c0 to %c10 step %c4 iter_args(%acc = %init) -> (tensor<10x1x5xf32>) {
    %n = affine.min affine_map<(d0) -> (4, -d0 + 10)>(%i)
    %g = tensor.generate %n {
    ^bb0(%a: index, %b: index):
      tensor.yield %zero : f32
    } : tensor<?x5xf32>
    %x = tensor.expand_shape %g [[0, 1], [2]] output_shape [%n, 1, 5] : tensor<?x5xf32> into tensor<?x1x5xf32>
    %e = tensor.empty(%n) : tensor<?x1x5xf32>
    %c = linalg.copy ins(%x : tensor<?x1x5xf32>) outs(%e : tensor<?x1x5xf32>) -> tensor<?x1x5xf32>
    %u = tensor.insert_slice %c into %acc[%i, 0, 0] [%n, 1, 5] [1, 1, 1] : tensor<?x1x5xf32> into tensor<10x1x5xf32>
    scf.yield %u : tensor<10x1x5xf32>
  }
  return %r : tensor<10x1x5xf32>
}"""
    run = execute(module(text))
    assert list(run.largest.values()) == [[4, 1, 5]]
