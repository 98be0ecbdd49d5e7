// RUN: fdt-opt-mlir %s --fdt-drop-pad-guards | FileCheck %s
// RUN: fdt-opt-mlir %s --fdt-drop-pad-guards --fdt-unroll-tile-loops --canonicalize | FileCheck %s --check-prefix=UNROLLED

// A pad of 3 rows on each side of 8 (14 rows), tiled by 2 as tiling leaves
// it: the tile's source rows [t - 3, t - 1) clipped to [0, 8), its low
// padding max(0, 3 - t), its high padding 2 - rows - low, and an scf.if
// that yields a tensor.generate for the tiles wholly in the padding: t = 0
// (no source row, a high padding of -1) and t = 12 (no source row, from
// offset 8, the input's extent). The guard goes, its condition with it; the
// pad branch stays, with low + min(high, 0) and max(high, 0) as its amounts
// and min(offset, 7) as its source offset.

#lo = affine_map<(t) -> (0, t - 3)>
#clip = affine_map<(r) -> (8, r)>
#hi = affine_map<(t) -> (8, t - 1)>
#rows = affine_map<(a, b) -> (0, b - a)>
#low = affine_map<(t) -> (0, -t + 3)>
#high = affine_map<(n, l) -> (-n - l + 2)>

// CHECK-LABEL: func.func @guard
// CHECK-SAME:    (%[[X:.*]]: tensor<8xf32>
// CHECK:         scf.for
// CHECK:           %[[LO:.*]] = affine.min #{{.*}}(%{{.*}})
// CHECK:           %[[N:.*]] = affine.max #{{.*}}(%{{.*}}, %{{.*}})
// CHECK-NEXT:      %[[LOW:.*]] = affine.max #{{.*}}(%{{.*}})
// CHECK-NEXT:      %[[HIGH:.*]] = affine.apply #{{.*}}(%[[N]], %[[LOW]])
// CHECK-NOT:       arith.cmpi
// CHECK:           %[[LAST:.*]] = arith.constant 7 : index
// CHECK-NEXT:      %[[OFF:.*]] = arith.minsi %[[LO]], %[[LAST]]
// CHECK-NEXT:      %[[SRC:.*]] = tensor.extract_slice %[[X]][%[[OFF]]] [%[[N]]] [1]
// CHECK-NEXT:      %[[ZERO:.*]] = arith.constant 0 : index
// CHECK-NEXT:      %[[MIN:.*]] = arith.minsi %[[HIGH]], %[[ZERO]]
// CHECK-NEXT:      %[[LOW2:.*]] = arith.addi %[[LOW]], %[[MIN]]
// CHECK-NEXT:      %[[HIGH2:.*]] = arith.maxsi %[[HIGH]], %[[ZERO]]
// CHECK-NEXT:      %[[PAD:.*]] = tensor.pad %[[SRC]] low[%[[LOW2]]] high[%[[HIGH2]]]
// CHECK:           linalg.generic {{.*}} ins(%[[PAD]] : tensor<?xf32>)
// CHECK-NOT:     scf.if
// CHECK-NOT:     tensor.generate

// Unrolled, every tile is static: the first and the last pad an empty
// slice of the input, the middle ones read it unpadded.

// UNROLLED-LABEL: func.func @guard
// UNROLLED-NOT:     scf.for
// UNROLLED:         %[[S0:.*]] = tensor.extract_slice %{{.*}}[0] [0] [1] : tensor<8xf32> to tensor<0xf32>
// UNROLLED-NEXT:    tensor.pad %[[S0]] low[2] high[0]
// UNROLLED:         %[[S1:.*]] = tensor.extract_slice %{{.*}}[0] [1] [1] : tensor<8xf32> to tensor<1xf32>
// UNROLLED-NEXT:    tensor.pad %[[S1]] low[1] high[0]
// UNROLLED:         tensor.extract_slice %{{.*}}[1] [2] [1] : tensor<8xf32> to tensor<2xf32>
// UNROLLED-NEXT:    tensor.empty
// UNROLLED:         tensor.extract_slice %{{.*}}[3] [2] [1] : tensor<8xf32> to tensor<2xf32>
// UNROLLED-NEXT:    tensor.empty
// UNROLLED:         tensor.extract_slice %{{.*}}[5] [2] [1] : tensor<8xf32> to tensor<2xf32>
// UNROLLED-NEXT:    tensor.empty
// UNROLLED:         %[[S5:.*]] = tensor.extract_slice %{{.*}}[7] [1] [1] : tensor<8xf32> to tensor<1xf32>
// UNROLLED-NEXT:    tensor.pad %[[S5]] low[0] high[1]
// UNROLLED:         %[[S6:.*]] = tensor.extract_slice %{{.*}}[7] [0] [1] : tensor<8xf32> to tensor<0xf32>
// UNROLLED-NEXT:    tensor.pad %[[S6]] low[0] high[2]
// UNROLLED-NOT:     tensor.pad
func.func @guard(%x: tensor<8xf32>, %out: tensor<14xf32>) -> tensor<14xf32> {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c14 = arith.constant 14 : index
  %r = scf.for %t = %c0 to %c14 step %c2 iter_args(%o = %out) -> (tensor<14xf32>) {
    %start = affine.max #lo(%t)
    %lo = affine.min #clip(%start)
    %hi = affine.min #hi(%t)
    %n = affine.max #rows(%lo, %hi)
    %low = affine.max #low(%t)
    %high = affine.apply #high(%n, %low)
    %empty = arith.cmpi eq, %n, %c0 : index
    %src = tensor.extract_slice %x[%lo] [%n] [1] : tensor<8xf32> to tensor<?xf32>
    %p = scf.if %empty -> (tensor<?xf32>) {
      %g = tensor.generate %c2 {
      ^bb0(%i: index):
        tensor.yield %zero : f32
      } : tensor<?xf32>
      scf.yield %g : tensor<?xf32>
    } else {
      %pad = tensor.pad %src low[%low] high[%high] {
      ^bb0(%i: index):
        tensor.yield %zero : f32
      } : tensor<?xf32> to tensor<?xf32>
      scf.yield %pad : tensor<?xf32>
    }
    %e = tensor.empty(%c2) : tensor<?xf32>
    %neg = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]} ins(%p : tensor<?xf32>) outs(%e : tensor<?xf32>) {
    ^bb0(%a: f32, %b: f32):
      %v = arith.negf %a : f32
      linalg.yield %v : f32
    } -> tensor<?xf32>
    %ins = tensor.insert_slice %neg into %o[%t] [%c2] [1] : tensor<?xf32> into tensor<14xf32>
    scf.yield %ins : tensor<14xf32>
  }
  return %r : tensor<14xf32>
}
