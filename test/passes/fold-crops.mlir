// RUN: fdt-opt-mlir %s --fdt-fold-crops | FileCheck %s

// A VALID 3-row max pool over 8 rows reads rows 0-5 only; TOSA crops the
// input to those rows first. The pool reads through the crop instead (its
// map never reaches rows 6 and 7), so that nothing stands between the pool
// and its producer when tiling fuses them.

#in = affine_map<(d0, d1) -> (d0 * 3 + d1)>
#window = affine_map<(d0, d1) -> (d1)>
#out = affine_map<(d0, d1) -> (d0)>

// CHECK-DAG:   #[[SHIFTED:.*]] = affine_map<(d0, d1) -> (d0 * 3 + d1 + 2)>
// CHECK-LABEL: func.func @pool
// CHECK-SAME:    (%[[X:.*]]: tensor<8xf32>)
// CHECK-NOT:     tensor.extract_slice
// CHECK:         linalg.generic {{.*}} ins(%[[X]], %{{.*}} : tensor<8xf32>, tensor<3xf32>)
func.func @pool(%x: tensor<8xf32>) -> tensor<2xf32> {
  %crop = tensor.extract_slice %x[0] [6] [1] : tensor<8xf32> to tensor<6xf32>
  %window = tensor.empty() : tensor<3xf32>
  %init = tensor.empty() : tensor<2xf32>
  %max = linalg.generic {indexing_maps = [#in, #window, #out], iterator_types = ["parallel", "reduction"]} ins(%crop, %window : tensor<6xf32>, tensor<3xf32>) outs(%init : tensor<2xf32>) {
  ^bb0(%a: f32, %w: f32, %o: f32):
    %m = arith.maximumf %a, %o : f32
    linalg.yield %m : f32
  } -> tensor<2xf32>
  return %max : tensor<2xf32>
}

// A SLICE at a non-zero offset, then TOSA's own crop for a VALID pool: the
// pool reads the input directly, its window map shifted by the offset.

// CHECK-LABEL: func.func @offset_pool
// CHECK-SAME:    (%[[X:.*]]: tensor<10xf32>)
// CHECK-NOT:     tensor.extract_slice
// CHECK:         linalg.generic {indexing_maps = [#[[SHIFTED]], #{{.*}}, #{{.*}}], {{.*}} ins(%[[X]], %{{.*}} : tensor<10xf32>, tensor<3xf32>)
func.func @offset_pool(%x: tensor<10xf32>) -> tensor<2xf32> {
  %slice = tensor.extract_slice %x[2] [7] [1] : tensor<10xf32> to tensor<7xf32>
  %crop = tensor.extract_slice %slice[0] [6] [1] : tensor<7xf32> to tensor<6xf32>
  %window = tensor.empty() : tensor<3xf32>
  %init = tensor.empty() : tensor<2xf32>
  %max = linalg.generic {indexing_maps = [#in, #window, #out], iterator_types = ["parallel", "reduction"]} ins(%crop, %window : tensor<6xf32>, tensor<3xf32>) outs(%init : tensor<2xf32>) {
  ^bb0(%a: f32, %w: f32, %o: f32):
    %m = arith.maximumf %a, %o : f32
    linalg.yield %m : f32
  } -> tensor<2xf32>
  return %max : tensor<2xf32>
}

// A crop at a non-zero offset that an elementwise op reads through a bare
// loop dim (whose extent the crop sets): it stays.

// CHECK-LABEL: func.func @shifted
// CHECK:         tensor.extract_slice %{{.*}}[2] [6] [1]
func.func @shifted(%x: tensor<8xf32>) -> tensor<6xf32> {
  %crop = tensor.extract_slice %x[2] [6] [1] : tensor<8xf32> to tensor<6xf32>
  %init = tensor.empty() : tensor<6xf32>
  %neg = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%crop : tensor<6xf32>) outs(%init : tensor<6xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  } -> tensor<6xf32>
  return %neg : tensor<6xf32>
}

// The first time step of an UNPACK: a slice at offset 0 that an
// elementwise op reads through a bare loop dim, whose extent the slice
// sets. It stays.

#id = affine_map<(d0, d1) -> (d0, d1)>

// CHECK-LABEL: func.func @first_step
// CHECK:         %[[S:.*]] = tensor.extract_slice %arg0[0, 0] [1, 4] [1, 1]
// CHECK:         linalg.generic {{.*}} ins(%[[S]] : tensor<1x4xf32>)
func.func @first_step(%x: tensor<3x4xf32>) -> tensor<1x4xf32> {
  %s = tensor.extract_slice %x[0, 0] [1, 4] [1, 1] : tensor<3x4xf32> to tensor<1x4xf32>
  %e = tensor.empty() : tensor<1x4xf32>
  %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%s : tensor<1x4xf32>) outs(%e : tensor<1x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  } -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}
