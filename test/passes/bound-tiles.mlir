// RUN: fdt-opt-mlir %s --split-input-file --fdt-bound-tiles | FileCheck %s

#id = affine_map<(i, j) -> (i, j)>

// A tile with halos clipped at the borders: tiles of 4 of 10 rows, each
// computing its producer on rows [t - 1, t + 5) clipped to [0, 10). Over
// t = 0, 4, 8 that is [0, 5), [3, 9) and [7, 10): 5, 6 and 3 rows, so the
// static buffer has 6 rows (the middle tile's, neither the first nor the
// step). The tile is its [0, n) rows slice.

// CHECK-LABEL: func.func @halo
// CHECK:         scf.for
// CHECK:           %[[N:.*]] = affine.apply
// CHECK-NOT:       tensor.empty
// CHECK:           %[[BUF:.*]] = bufferization.alloc_tensor() : tensor<6x8xf32>
// CHECK-NEXT:      %[[TILE:.*]] = tensor.extract_slice %[[BUF]][0, 0] [%[[N]], 8] [1, 1] : tensor<6x8xf32> to tensor<?x8xf32>
// CHECK-NEXT:      linalg.generic {{.*}} outs(%[[TILE]] : tensor<?x8xf32>)
func.func @halo(%x: tensor<10x8xf32>, %out: tensor<10x8xf32>) -> tensor<10x8xf32> {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c10 = arith.constant 10 : index
  %r = scf.for %t = %c0 to %c10 step %c4 iter_args(%o = %out) -> (tensor<10x8xf32>) {
    %lo = affine.max affine_map<(t) -> (0, t - 1)>(%t)
    %hi = affine.min affine_map<(t) -> (10, t + 5)>(%t)
    %n = affine.apply affine_map<(a, b) -> (b - a)>(%lo, %hi)
    %in = tensor.extract_slice %x[%lo, 0] [%n, 8] [1, 1] : tensor<10x8xf32> to tensor<?x8xf32>
    %e = tensor.empty(%n) : tensor<?x8xf32>
    %h = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%in : tensor<?x8xf32>) outs(%e : tensor<?x8xf32>) {
    ^bb0(%a: f32, %b: f32):
      %neg = arith.negf %a : f32
      linalg.yield %neg : f32
    } -> tensor<?x8xf32>
    %m = affine.min affine_map<(t) -> (4, -t + 10)>(%t)
    %off = affine.apply affine_map<(t, l) -> (t - l)>(%t, %lo)
    %s = tensor.extract_slice %h[%off, 0] [%m, 8] [1, 1] : tensor<?x8xf32> to tensor<?x8xf32>
    %ins = tensor.insert_slice %s into %o[%t, 0] [%m, 8] [1, 1] : tensor<?x8xf32> into tensor<10x8xf32>
    scf.yield %ins : tensor<10x8xf32>
  }
  return %r : tensor<10x8xf32>
}

// -----

#id = affine_map<(n, h, w, c) -> (n, h, w, c)>

// An uneven FDT partition as fdt-apply-plan leaves it: 8 channels in slices
// of ceil(8 / 3) = 3, the last of 8 - 6 = 2, each a slice of a whole-tensor
// tensor.empty. The slice becomes an empty of its own, then a slice of a
// static buffer of 3 channels: one tile, not the 8-channel tensor.

// CHECK-LABEL: func.func @channel_slices
// CHECK-NOT:     tensor.empty
// CHECK:         scf.for
// CHECK:           %[[N:.*]] = affine.min
// CHECK-NOT:       tensor.empty
// CHECK:           %[[BUF:.*]] = bufferization.alloc_tensor() : tensor<1x4x4x3xi32>
// CHECK-NEXT:      %[[TILE:.*]] = tensor.extract_slice %[[BUF]][0, 0, 0, 0] [1, 4, 4, %[[N]]] [1, 1, 1, 1] : tensor<1x4x4x3xi32> to tensor<1x4x4x?xi32>
// CHECK-NEXT:      linalg.generic {{.*}} outs(%[[TILE]] : tensor<1x4x4x?xi32>)
// CHECK-NOT:     alloc_tensor
func.func @channel_slices(%x: tensor<1x4x4x8xi8>, %y: tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8> {
  %c0 = arith.constant 0 : index
  %c3 = arith.constant 3 : index
  %c8 = arith.constant 8 : index
  %e = tensor.empty() : tensor<1x4x4x8xi32>
  %r = scf.for %c = %c0 to %c8 step %c3 iter_args(%o = %y) -> (tensor<1x4x4x8xi8>) {
    %n = affine.min affine_map<(c) -> (-c + 8, 3)>(%c)
    %in = tensor.extract_slice %x[0, 0, 0, %c] [1, 4, 4, %n] [1, 1, 1, 1] : tensor<1x4x4x8xi8> to tensor<1x4x4x?xi8>
    %tile = tensor.extract_slice %e[0, 0, 0, %c] [1, 4, 4, %n] [1, 1, 1, 1] : tensor<1x4x4x8xi32> to tensor<1x4x4x?xi32>
    %wide = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%in : tensor<1x4x4x?xi8>) outs(%tile : tensor<1x4x4x?xi32>) {
    ^bb0(%a: i8, %b: i32):
      %w = arith.extsi %a : i8 to i32
      linalg.yield %w : i32
    } -> tensor<1x4x4x?xi32>
    %dst = tensor.extract_slice %o[0, 0, 0, %c] [1, 4, 4, %n] [1, 1, 1, 1] : tensor<1x4x4x8xi8> to tensor<1x4x4x?xi8>
    %q = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%wide : tensor<1x4x4x?xi32>) outs(%dst : tensor<1x4x4x?xi8>) {
    ^bb0(%a: i32, %b: i8):
      %t = arith.trunci %a : i32 to i8
      linalg.yield %t : i8
    } -> tensor<1x4x4x?xi8>
    %ins = tensor.insert_slice %q into %o[0, 0, 0, %c] [1, 4, 4, %n] [1, 1, 1, 1] : tensor<1x4x4x?xi8> into tensor<1x4x4x8xi8>
    scf.yield %ins : tensor<1x4x4x8xi8>
  }
  return %r : tensor<1x4x4x8xi8>
}

// -----

#id = affine_map<(i, j) -> (i, j)>

// A grid of tiles, two nested loops: rows as in @halo (5, 6 or 3 rows),
// columns in tiles of 3 of 8 (3, 3 or 2 columns). Each extent gets its
// largest value over all iterations of both loops: a 6 x 3 buffer.

// CHECK-LABEL: func.func @grid
// CHECK:         scf.for
// CHECK:           scf.for
// CHECK:             %[[BUF:.*]] = bufferization.alloc_tensor() : tensor<6x3xf32>
// CHECK-NEXT:        tensor.extract_slice %[[BUF]][0, 0] [%{{.*}}, %{{.*}}] [1, 1] : tensor<6x3xf32> to tensor<?x?xf32>
func.func @grid(%x: tensor<10x8xf32>, %out: tensor<10x8xf32>) -> tensor<10x8xf32> {
  %c0 = arith.constant 0 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c10 = arith.constant 10 : index
  %r = scf.for %i = %c0 to %c10 step %c4 iter_args(%o = %out) -> (tensor<10x8xf32>) {
    %r2 = scf.for %j = %c0 to %c8 step %c3 iter_args(%o2 = %o) -> (tensor<10x8xf32>) {
      %lo = affine.max affine_map<(t) -> (0, t - 1)>(%i)
      %hi = affine.min affine_map<(t) -> (10, t + 5)>(%i)
      %n = affine.apply affine_map<(a, b) -> (b - a)>(%lo, %hi)
      %m = affine.min affine_map<(j) -> (3, -j + 8)>(%j)
      %in = tensor.extract_slice %x[%lo, %j] [%n, %m] [1, 1] : tensor<10x8xf32> to tensor<?x?xf32>
      %e = tensor.empty(%n, %m) : tensor<?x?xf32>
      %h = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%in : tensor<?x?xf32>) outs(%e : tensor<?x?xf32>) {
      ^bb0(%a: f32, %b: f32):
        %neg = arith.negf %a : f32
        linalg.yield %neg : f32
      } -> tensor<?x?xf32>
      %ins = tensor.insert_slice %h into %o2[%lo, %j] [%n, %m] [1, 1] : tensor<?x?xf32> into tensor<10x8xf32>
      scf.yield %ins : tensor<10x8xf32>
    }
    scf.yield %r2 : tensor<10x8xf32>
  }
  return %r : tensor<10x8xf32>
}

// -----

#id = affine_map<(i) -> (i)>

// CSE may merge the empties of two tiles into one value: each use gets a
// buffer of its own, or the two tiles would share one. A statically shaped
// empty is left alone.

// CHECK-LABEL: func.func @shared
// CHECK:         scf.for
// CHECK:           %[[B1:.*]] = bufferization.alloc_tensor() : tensor<3xf32>
// CHECK-NEXT:      %[[T1:.*]] = tensor.extract_slice %[[B1]][0] [%{{.*}}] [1]
// CHECK-NEXT:      %[[G1:.*]] = linalg.generic {{.*}} outs(%[[T1]] : tensor<?xf32>)
// CHECK:           %[[B2:.*]] = bufferization.alloc_tensor() : tensor<3xf32>
// CHECK-NEXT:      %[[T2:.*]] = tensor.extract_slice %[[B2]][0] [%{{.*}}] [1]
// CHECK-NEXT:      linalg.generic {{.*}} ins(%[[G1]] : tensor<?xf32>) outs(%[[T2]] : tensor<?xf32>)
// CHECK:         tensor.empty() : tensor<3xf32>
// CHECK-NOT:     alloc_tensor
func.func @shared(%x: tensor<8xf32>) -> (tensor<8xf32>, tensor<3xf32>) {
  %c0 = arith.constant 0 : index
  %c3 = arith.constant 3 : index
  %c8 = arith.constant 8 : index
  %r = scf.for %i = %c0 to %c8 step %c3 iter_args(%o = %x) -> (tensor<8xf32>) {
    %n = affine.min affine_map<(i) -> (3, -i + 8)>(%i)
    %in = tensor.extract_slice %x[%i] [%n] [1] : tensor<8xf32> to tensor<?xf32>
    %e = tensor.empty(%n) : tensor<?xf32>
    %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%in : tensor<?xf32>) outs(%e : tensor<?xf32>) {
    ^bb0(%v: f32, %w: f32):
      %neg = arith.negf %v : f32
      linalg.yield %neg : f32
    } -> tensor<?xf32>
    %b = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%a : tensor<?xf32>) outs(%e : tensor<?xf32>) {
    ^bb0(%v: f32, %w: f32):
      %abs = math.absf %v : f32
      linalg.yield %abs : f32
    } -> tensor<?xf32>
    %ins = tensor.insert_slice %b into %o[%i] [%n] [1] : tensor<?xf32> into tensor<8xf32>
    scf.yield %ins : tensor<8xf32>
  }
  %fixed = tensor.empty() : tensor<3xf32>
  return %r, %fixed : tensor<8xf32>, tensor<3xf32>
}
