// RUN: fdt-opt-mlir %s --fdt-copy-slices | FileCheck %s

// A SLICE an elementwise op reads (here with a stride of 2) becomes a copy
// kernel: a generic writing each element of the slice, read from the
// source inside its body, so that it is neither a view of the source nor
// folded away as an identity copy.

// CHECK-LABEL: func.func @slice
// CHECK-SAME:    (%[[X:.*]]: tensor<4x10xf32>)
// CHECK-NOT:     tensor.extract_slice
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<2x4xf32>
// CHECK:         %[[C:.*]] = linalg.generic {{.*}} outs(%[[E]] : tensor<2x4xf32>)
// CHECK:           %[[I:.*]] = linalg.index 0 : index
// CHECK:           %[[I1:.*]] = arith.addi %[[I]], %c1
// CHECK:           %[[J:.*]] = linalg.index 1 : index
// CHECK:           %[[J2:.*]] = arith.muli %[[J]], %c2
// CHECK:           %[[J3:.*]] = arith.addi %[[J2]], %c3
// CHECK:           %[[V:.*]] = tensor.extract %[[X]][%[[I1]], %[[J3]]] : tensor<4x10xf32>
// CHECK:           linalg.yield %[[V]]
// CHECK:         linalg.generic {{.*}} ins(%[[C]] : tensor<2x4xf32>)
func.func @slice(%x: tensor<4x10xf32>) -> tensor<2x4xf32> {
  %s = tensor.extract_slice %x[1, 3] [2, 4] [1, 2] : tensor<4x10xf32> to tensor<2x4xf32>
  %e = tensor.empty() : tensor<2x4xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%s : tensor<2x4xf32>) outs(%e : tensor<2x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  } -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
