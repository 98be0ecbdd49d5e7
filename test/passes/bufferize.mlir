// RUN: fdt-opt-mlir %s --split-input-file --fdt-bufferize | FileCheck %s --implicit-check-not=memref.copy '--implicit-check-not=memref<4xi32>'

// A dense layer after fdt-tile-kernels: one loop over the outputs, whose
// int32 accumulator is a one-element slice of a whole-layer tensor.empty.
// The empty tensor is shrunk to the tile before bufferization, so the
// accumulator is allocated as one element inside the loop (no memref<4xi32>
// anywhere). The int8 result tile's empty tensor is eliminated: the result
// is computed in place into the loop's output, and what is left of the
// insertion is a copy of that view onto itself (erased by canonicalize), as
// linalg.copy (memref.copy on a strided view is not lowered by EmitC).
// Function boundaries get identity layouts.

#id = affine_map<(d0) -> (d0)>
#x = affine_map<(d0, d1) -> (d1)>
#acc = affine_map<(d0, d1) -> (d0)>

// CHECK-LABEL: func.func @dense
// CHECK-SAME:    (%[[X:.*]]: memref<8xi8>) -> memref<4xi8>
// CHECK:         %[[OUT:.*]] = memref.alloc() {{.*}}: memref<4xi8>
// CHECK:         scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[O:.*]] = %[[OUT]]) -> (memref<4xi8>)
// CHECK:           %[[ACC:.*]] = memref.alloc() {{.*}}: memref<1xi32>
// CHECK:           linalg.fill {{.*}} outs(%[[ACC]] : memref<1xi32>)
// CHECK:           linalg.generic {{.*}} ins(%[[X]] : memref<8xi8>) outs(%[[ACC]] : memref<1xi32>)
// CHECK:           %[[TILE:.*]] = memref.subview %[[O]][%[[I]]] [1] [1]
// CHECK:           linalg.generic {{.*}} ins(%[[ACC]] : memref<1xi32>) outs(%[[TILE]] : memref<1xi8, strided<[1], offset: ?>>)
// CHECK:           %[[VIEW:.*]] = memref.subview %[[O]][%[[I]]] [1] [1]
// CHECK:           linalg.copy ins(%[[TILE]] : {{.*}}) outs(%[[VIEW]] :
// CHECK:           scf.yield %[[O]]
func.func @dense(%x: tensor<8xi8>) -> tensor<4xi8> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0 : i32
  %acc = tensor.empty() : tensor<4xi32>
  %out = tensor.empty() : tensor<4xi8>
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%o = %out) -> (tensor<4xi8>) {
    %a = tensor.extract_slice %acc[%i] [1] [1] : tensor<4xi32> to tensor<1xi32>
    %f = linalg.fill ins(%zero : i32) outs(%a : tensor<1xi32>) -> tensor<1xi32>
    %s = linalg.generic {indexing_maps = [#x, #acc], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<8xi8>) outs(%f : tensor<1xi32>) {
    ^bb0(%in: i8, %sum: i32):
      %e = arith.extsi %in : i8 to i32
      %n = arith.addi %sum, %e : i32
      linalg.yield %n : i32
    } -> tensor<1xi32>
    %t = tensor.extract_slice %out[%i] [1] [1] : tensor<4xi8> to tensor<1xi8>
    %q = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%s : tensor<1xi32>) outs(%t : tensor<1xi8>) {
    ^bb0(%in: i32, %unused: i8):
      %v = arith.trunci %in : i32 to i8
      linalg.yield %v : i8
    } -> tensor<1xi8>
    %ins = tensor.insert_slice %q into %o[%i] [1] [1] : tensor<1xi8> into tensor<4xi8>
    scf.yield %ins : tensor<4xi8>
  }
  return %r : tensor<4xi8>
}

// -----

// One tensor.empty (as CSE leaves it) is the init of the first and the last
// of three layers. Bufferized as is, the first layer's buffer would be reused
// by the last one and live across all three; it is split per user, so the
// buffer the first layer writes is written by no later op.

#id = affine_map<(d0) -> (d0)>

// CHECK-LABEL: func.func @shared
// CHECK-SAME:    (%[[X:.*]]: memref<16xf32>) -> memref<16xf32>
// CHECK-COUNT-2: memref.alloc() {{.*}}: memref<16xf32>
// CHECK:         linalg.generic {{.*}} ins(%[[X]] : memref<16xf32>) outs(%[[FIRST:.*]] : memref<16xf32>)
// CHECK-NOT:     outs(%[[FIRST]] :
// CHECK:         return
func.func @shared(%x: tensor<16xf32>) -> tensor<16xf32> {
  %e = tensor.empty() : tensor<16xf32>
  %e2 = tensor.empty() : tensor<16xi32>
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%x : tensor<16xf32>) outs(%e : tensor<16xf32>) {
  ^bb0(%in: f32, %unused: f32):
    %v = arith.negf %in : f32
    linalg.yield %v : f32
  } -> tensor<16xf32>
  %b = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%a : tensor<16xf32>) outs(%e2 : tensor<16xi32>) {
  ^bb0(%in: f32, %unused: i32):
    %v = arith.fptosi %in : f32 to i32
    linalg.yield %v : i32
  } -> tensor<16xi32>
  %c = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%b : tensor<16xi32>) outs(%e : tensor<16xf32>) {
  ^bb0(%in: i32, %unused: f32):
    %v = arith.sitofp %in : i32 to f32
    linalg.yield %v : f32
  } -> tensor<16xf32>
  return %c : tensor<16xf32>
}

// -----

// A kernel's result that another kernel inserts into a zero-filled buffer
// of its own (ONNX's ConvTranspose, strided): the result gets a buffer of
// its own and is copied into the view, as when the consumer is lowered
// alone. Computed in place, its producer would need the zero-filled buffer
// while its own inputs are live.

#e = affine_map<(d0) -> (d0)>

// CHECK-LABEL: func.func @interleave
// CHECK:         %[[R:.*]] = memref.alloc() {{.*}}: memref<2xf32>
// CHECK:         linalg.generic {{.*}} outs(%[[R]] : memref<2xf32>)
// CHECK:         %[[Z:.*]] = memref.alloc() {{.*}}: memref<5xf32>
// CHECK:         linalg.fill {{.*}} outs(%[[Z]] : memref<5xf32>)
// CHECK:         %[[V:.*]] = memref.subview %[[Z]][1] [2] [2]
// CHECK:         linalg.copy {{.*}}ins(%[[R]] : memref<2xf32>) outs(%[[V]] :
func.func @interleave(%x: tensor<2xf32>) -> tensor<5xf32> {
  %e = tensor.empty() : tensor<2xf32>
  %r = linalg.generic {indexing_maps = [#e, #e], iterator_types = ["parallel"]} ins(%x : tensor<2xf32>) outs(%e : tensor<2xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %a : f32
    linalg.yield %m : f32
  } -> tensor<2xf32>
  %zero = arith.constant 0.0 : f32
  %z0 = tensor.empty() : tensor<5xf32>
  %z = linalg.fill ins(%zero : f32) outs(%z0 : tensor<5xf32>) -> tensor<5xf32>
  %y = tensor.insert_slice %r into %z[1] [2] [2] : tensor<2xf32> into tensor<5xf32>
  return %y : tensor<5xf32>
}
