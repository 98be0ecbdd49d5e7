// RUN: fdt-opt-mlir %s --split-input-file --fdt-unroll-tile-loops | FileCheck %s
// RUN: fdt-opt-mlir %s --split-input-file --fdt-unroll-tile-loops --canonicalize | FileCheck %s --check-prefix=STATIC

#id = affine_map<(i) -> (i)>

// 10 elements in tiles of 4: 4, 4 and 2, the last tile's size an
// affine.min of the induction variable. Unrolled, the three tiles follow
// each other, each with a constant offset; canonicalize folds their sizes.

// CHECK-LABEL: func.func @uneven
// CHECK-NOT:     scf.for
// CHECK:         affine.min #{{.*}}(%c0)
// CHECK:         %[[T1:.*]] = arith.addi %c0, %{{.*}} : index
// CHECK-NEXT:    affine.min #{{.*}}(%[[T1]])
// CHECK:         %[[T2:.*]] = arith.addi %c0, %{{.*}} : index
// CHECK-NEXT:    affine.min #{{.*}}(%[[T2]])
// CHECK-NOT:     affine.min
// CHECK:         return

// STATIC-LABEL: func.func @uneven
// STATIC-NOT:     affine.min
// STATIC:         tensor.extract_slice %{{.*}}[0] [4] [1] : tensor<10xf32> to tensor<4xf32>
// STATIC:         %[[I0:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[0] [4] [1] : tensor<4xf32> into tensor<10xf32>
// STATIC:         tensor.extract_slice %{{.*}}[4] [4] [1] : tensor<10xf32> to tensor<4xf32>
// STATIC:         %[[I1:.*]] = tensor.insert_slice %{{.*}} into %[[I0]][4] [4] [1] : tensor<4xf32> into tensor<10xf32>
// STATIC:         tensor.extract_slice %{{.*}}[8] [2] [1] : tensor<10xf32> to tensor<2xf32>
// STATIC:         %[[I2:.*]] = tensor.insert_slice %{{.*}} into %[[I1]][8] [2] [1] : tensor<2xf32> into tensor<10xf32>
// STATIC:         return %[[I2]]
func.func @uneven(%x: tensor<10xf32>, %out: tensor<10xf32>) -> tensor<10xf32> {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c10 = arith.constant 10 : index
  %r = scf.for %t = %c0 to %c10 step %c4 iter_args(%o = %out) -> (tensor<10xf32>) {
    %n = affine.min affine_map<(t) -> (4, -t + 10)>(%t)
    %in = tensor.extract_slice %x[%t] [%n] [1] : tensor<10xf32> to tensor<?xf32>
    %e = tensor.empty(%n) : tensor<?xf32>
    %neg = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%in : tensor<?xf32>) outs(%e : tensor<?xf32>) {
    ^bb0(%a: f32, %b: f32):
      %v = arith.negf %a : f32
      linalg.yield %v : f32
    } -> tensor<?xf32>
    %ins = tensor.insert_slice %neg into %o[%t] [%n] [1] : tensor<?xf32> into tensor<10xf32>
    scf.yield %ins : tensor<10xf32>
  }
  return %r : tensor<10xf32>
}

// -----

#id = affine_map<(i, j) -> (i, j)>

// A 2 x 3 grid, two nested loops: 6 tiles, rows outer. The inner loop is
// unrolled first, then the outer one with its 3 unrolled tiles.

// STATIC-LABEL: func.func @grid
// STATIC-NOT:     scf.for
// STATIC:         tensor.insert_slice %{{.*}}[0, 0] [2, 2] [1, 1]
// STATIC:         tensor.insert_slice %{{.*}}[0, 2] [2, 2] [1, 1]
// STATIC:         tensor.insert_slice %{{.*}}[0, 4] [2, 1] [1, 1] : tensor<2x1xf32>
// STATIC:         tensor.insert_slice %{{.*}}[2, 0] [2, 2] [1, 1]
// STATIC:         tensor.insert_slice %{{.*}}[2, 2] [2, 2] [1, 1]
// STATIC:         tensor.insert_slice %{{.*}}[2, 4] [2, 1] [1, 1] : tensor<2x1xf32>
// STATIC-NOT:     tensor.insert_slice
func.func @grid(%x: tensor<4x5xf32>, %out: tensor<4x5xf32>) -> tensor<4x5xf32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c5 = arith.constant 5 : index
  %r = scf.for %i = %c0 to %c4 step %c2 iter_args(%o = %out) -> (tensor<4x5xf32>) {
    %r2 = scf.for %j = %c0 to %c5 step %c2 iter_args(%o2 = %o) -> (tensor<4x5xf32>) {
      %m = affine.min affine_map<(j) -> (2, -j + 5)>(%j)
      %in = tensor.extract_slice %x[%i, %j] [2, %m] [1, 1] : tensor<4x5xf32> to tensor<2x?xf32>
      %e = tensor.empty(%m) : tensor<2x?xf32>
      %neg = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%in : tensor<2x?xf32>) outs(%e : tensor<2x?xf32>) {
      ^bb0(%a: f32, %b: f32):
        %v = arith.negf %a : f32
        linalg.yield %v : f32
      } -> tensor<2x?xf32>
      %ins = tensor.insert_slice %neg into %o2[%i, %j] [2, %m] [1, 1] : tensor<2x?xf32> into tensor<4x5xf32>
      scf.yield %ins : tensor<4x5xf32>
    }
    scf.yield %r2 : tensor<4x5xf32>
  }
  return %r : tensor<4x5xf32>
}

// -----

// A loop whose bounds are not constants is left as it is.

// CHECK-LABEL: func.func @dynamic
// CHECK:         scf.for
// CHECK-NOT:     fdt.unroll
func.func @dynamic(%x: tensor<10xf32>, %n: index) -> tensor<10xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = scf.for %t = %c0 to %n step %c1 iter_args(%o = %x) -> (tensor<10xf32>) {
    %v = tensor.extract %o[%t] : tensor<10xf32>
    %w = arith.negf %v : f32
    %ins = tensor.insert %w into %o[%t] : tensor<10xf32>
    scf.yield %ins : tensor<10xf32>
  }
  return %r : tensor<10xf32>
}
