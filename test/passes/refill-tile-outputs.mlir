// RUN: fdt-opt-mlir %s --split-input-file --fdt-refill-tile-outputs | FileCheck %s

#fill = affine_map<(i, k) -> ()>
#out = affine_map<(i, k) -> (i)>
#win = affine_map<(i, k) -> (i + k)>
#scalar = affine_map<(i) -> ()>
#id = affine_map<(i) -> (i)>

// A max pool (window 2) of 6 outputs in 2 tiles of 3, unrolled as
// fdt-unroll-tile-loops leaves it: the output starts as -inf, and each
// tile's init is a slice of the tensor the tiles are inserted into. Each
// tile gets a -inf fill of its own; the second tile's slice [3, 6) is
// disjoint from the first tile's insertion [0, 3), so it still holds -inf.

// CHECK-LABEL: func.func @pool
// CHECK:         %[[FILL:.*]] = linalg.generic {{.*}} ins(%[[NEG:.*]] : f32) outs(%{{.*}} : tensor<6xf32>)
// CHECK:         %[[E0:.*]] = tensor.empty() : tensor<3xf32>
// CHECK-NEXT:    %[[F0:.*]] = linalg.generic {{.*}} ins(%[[NEG]] : f32) outs(%[[E0]] : tensor<3xf32>)
// CHECK-NEXT:    ^bb0(%{{.*}}: f32, %{{.*}}: f32):
// CHECK-NEXT:      linalg.yield
// CHECK-NEXT:    } -> tensor<3xf32>
// CHECK-NEXT:    %[[P0:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<4xf32>, tensor<2xf32>) outs(%[[F0]] : tensor<3xf32>)
// CHECK:         %[[I0:.*]] = tensor.insert_slice %[[P0]] into %[[FILL]][0] [3] [1]
// CHECK:         %[[E1:.*]] = tensor.empty() : tensor<3xf32>
// CHECK-NEXT:    %[[F1:.*]] = linalg.generic {{.*}} ins(%[[NEG]] : f32) outs(%[[E1]] : tensor<3xf32>)
// CHECK:         %[[P1:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<4xf32>, tensor<2xf32>) outs(%[[F1]] : tensor<3xf32>)
// CHECK:         tensor.insert_slice %[[P1]] into %[[I0]][3] [3] [1]
// CHECK-NOT:     tensor.extract_slice %[[FILL]]
// CHECK-NOT:     tensor.extract_slice %[[I0]]
func.func @pool(%x: tensor<7xf32>) -> tensor<6xf32> {
  %neg = arith.constant -3.40282347E+38 : f32
  %e = tensor.empty() : tensor<6xf32>
  %fill = linalg.generic {indexing_maps = [#scalar, #id], iterator_types = ["parallel"]} ins(%neg : f32) outs(%e : tensor<6xf32>) {
  ^bb0(%a: f32, %b: f32):
    linalg.yield %a : f32
  } -> tensor<6xf32>
  %w = tensor.empty() : tensor<2xf32>
  %in0 = tensor.extract_slice %x[0] [4] [1] : tensor<7xf32> to tensor<4xf32>
  %s0 = tensor.extract_slice %fill[0] [3] [1] : tensor<6xf32> to tensor<3xf32>
  %p0 = linalg.generic {indexing_maps = [#win, affine_map<(i, k) -> (k)>, #out], iterator_types = ["parallel", "reduction"]} ins(%in0, %w : tensor<4xf32>, tensor<2xf32>) outs(%s0 : tensor<3xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.maximumf %acc, %a : f32
    linalg.yield %m : f32
  } -> tensor<3xf32>
  %i0 = tensor.insert_slice %p0 into %fill[0] [3] [1] : tensor<3xf32> into tensor<6xf32>
  %in1 = tensor.extract_slice %x[3] [4] [1] : tensor<7xf32> to tensor<4xf32>
  %s1 = tensor.extract_slice %i0[3] [3] [1] : tensor<6xf32> to tensor<3xf32>
  %p1 = linalg.generic {indexing_maps = [#win, affine_map<(i, k) -> (k)>, #out], iterator_types = ["parallel", "reduction"]} ins(%in1, %w : tensor<4xf32>, tensor<2xf32>) outs(%s1 : tensor<3xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.maximumf %acc, %a : f32
    linalg.yield %m : f32
  } -> tensor<3xf32>
  %i1 = tensor.insert_slice %p1 into %i0[3] [3] [1] : tensor<3xf32> into tensor<6xf32>
  return %i1 : tensor<6xf32>
}

// -----

#bias = affine_map<(n, c) -> (c)>
#id = affine_map<(n, c) -> (n, c)>

// A fill broadcasting a constant (a bias per channel), tiled along the
// channels: the fill of the tile [2, 4) reads the constant's [2, 4).

// CHECK-LABEL: func.func @bias
// CHECK:         %[[B:.*]] = arith.constant dense<[1, 2, 3, 4]> : tensor<4xi32>
// CHECK:         %[[BS:.*]] = tensor.extract_slice %[[B]][2] [2] [1] : tensor<4xi32> to tensor<2xi32>
// CHECK-NEXT:    %[[E:.*]] = tensor.empty() : tensor<3x2xi32>
// CHECK-NEXT:    %[[F:.*]] = linalg.generic {{.*}} ins(%[[BS]] : tensor<2xi32>) outs(%[[E]] : tensor<3x2xi32>)
// CHECK:         linalg.generic {{.*}} outs(%[[F]] : tensor<3x2xi32>)
func.func @bias(%x: tensor<3x2xi32>) -> tensor<3x4xi32> {
  %b = arith.constant dense<[1, 2, 3, 4]> : tensor<4xi32>
  %e = tensor.empty() : tensor<3x4xi32>
  %fill = linalg.generic {indexing_maps = [#bias, #id], iterator_types = ["parallel", "parallel"]} ins(%b : tensor<4xi32>) outs(%e : tensor<3x4xi32>) {
  ^bb0(%a: i32, %o: i32):
    linalg.yield %a : i32
  } -> tensor<3x4xi32>
  %s = tensor.extract_slice %fill[0, 2] [3, 2] [1, 1] : tensor<3x4xi32> to tensor<3x2xi32>
  %acc = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<3x2xi32>) outs(%s : tensor<3x2xi32>) {
  ^bb0(%a: i32, %o: i32):
    %v = arith.addi %o, %a : i32
    linalg.yield %v : i32
  } -> tensor<3x2xi32>
  %i = tensor.insert_slice %acc into %fill[0, 2] [3, 2] [1, 1] : tensor<3x2xi32> into tensor<3x4xi32>
  return %i : tensor<3x4xi32>
}

// -----

#scalar = affine_map<(i) -> ()>
#id = affine_map<(i) -> (i)>

// Left alone: a slice that an earlier tile wrote (its [2, 5) meets the
// insertion [0, 3)), a slice whose tile overwrites its init without reading
// it, and an accumulator that every tile reads whole (a '>' path).

// CHECK-LABEL: func.func @kept
// CHECK:         %[[FILL:.*]] = linalg.generic
// CHECK:         %[[I0:.*]] = tensor.insert_slice %{{.*}} into %[[FILL]][0] [3] [1]
// CHECK:         %[[S1:.*]] = tensor.extract_slice %[[I0]][2] [3] [1]
// CHECK-NEXT:    linalg.generic {{.*}} outs(%[[S1]] : tensor<3xf32>)
// CHECK:         %[[S2:.*]] = tensor.extract_slice %[[FILL]][3] [3] [1]
// CHECK-NEXT:    linalg.generic {{.*}} outs(%[[S2]] : tensor<3xf32>)
// CHECK:         %[[A0:.*]] = linalg.generic {{.*}} outs(%[[FILL]] : tensor<6xf32>)
// CHECK:         linalg.generic {{.*}} outs(%[[A0]] : tensor<6xf32>)
// CHECK-NOT:     tensor.empty() : tensor<3xf32>
func.func @kept(%x: tensor<3xf32>, %y: tensor<6xf32>) -> (tensor<3xf32>, tensor<3xf32>, tensor<6xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<6xf32>
  %fill = linalg.generic {indexing_maps = [#scalar, #id], iterator_types = ["parallel"]} ins(%zero : f32) outs(%e : tensor<6xf32>) {
  ^bb0(%a: f32, %b: f32):
    linalg.yield %a : f32
  } -> tensor<6xf32>
  %i0 = tensor.insert_slice %x into %fill[0] [3] [1] : tensor<3xf32> into tensor<6xf32>
  %s1 = tensor.extract_slice %i0[2] [3] [1] : tensor<6xf32> to tensor<3xf32>
  %r1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%x : tensor<3xf32>) outs(%s1 : tensor<3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %v = arith.addf %o, %a : f32
    linalg.yield %v : f32
  } -> tensor<3xf32>
  %s2 = tensor.extract_slice %fill[3] [3] [1] : tensor<6xf32> to tensor<3xf32>
  %r2 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%x : tensor<3xf32>) outs(%s2 : tensor<3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %v = arith.negf %a : f32
    linalg.yield %v : f32
  } -> tensor<3xf32>
  %a0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%y : tensor<6xf32>) outs(%fill : tensor<6xf32>) {
  ^bb0(%a: f32, %o: f32):
    %v = arith.addf %o, %a : f32
    linalg.yield %v : f32
  } -> tensor<6xf32>
  %a1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%y : tensor<6xf32>) outs(%a0 : tensor<6xf32>) {
  ^bb0(%a: f32, %o: f32):
    %v = arith.addf %o, %a : f32
    linalg.yield %v : f32
  } -> tensor<6xf32>
  return %r1, %r2, %a1 : tensor<3xf32>, tensor<3xf32>, tensor<6xf32>
}
