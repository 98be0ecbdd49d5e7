// RUN: fdt-opt-mlir %s --split-input-file --fdt-flatten-memrefs | FileCheck %s

// A 2-D buffer becomes 15 elements; [i, j] becomes i * 5 + j (row-major),
// for loads and stores alike, and the function signature follows.

// CHECK-LABEL: func.func @matrix
// CHECK-SAME:    (%[[A:.*]]: memref<15xi8>, %[[I:.*]]: index, %[[J:.*]]: index) -> i8
// CHECK:         %[[C5:.*]] = arith.constant 5 : index
// CHECK:         %[[R:.*]] = arith.muli %[[I]], %[[C5]] : index
// CHECK:         %[[IJ:.*]] = arith.addi %[[J]], %[[R]] : index
// CHECK:         %[[V:.*]] = memref.load %[[A]][%[[IJ]]] : memref<15xi8>
// CHECK:         %[[C5B:.*]] = arith.constant 5 : index
// CHECK:         %[[R2:.*]] = arith.muli %[[J]], %[[C5B]] : index
// CHECK:         %[[JI:.*]] = arith.addi %[[I]], %[[R2]] : index
// CHECK:         memref.store %[[V]], %[[A]][%[[JI]]] : memref<15xi8>
func.func @matrix(%a: memref<3x5xi8>, %i: index, %j: index) -> i8 {
  %v = memref.load %a[%i, %j] : memref<3x5xi8>
  memref.store %v, %a[%j, %i] : memref<3x5xi8>
  return %v : i8
}

// -----

// NHWC 1x4x6x8: strides 192, 48, 8, 1.

// CHECK-LABEL: func.func @nhwc
// CHECK-SAME:    (%[[A:.*]]: memref<192xf32>, %[[N:.*]]: index, %[[H:.*]]: index, %[[W:.*]]: index, %[[C:.*]]: index) -> f32
// CHECK:         %[[C8:.*]] = arith.constant 8 : index
// CHECK:         %[[WS:.*]] = arith.muli %[[W]], %[[C8]]
// CHECK:         %[[T1:.*]] = arith.addi %[[C]], %[[WS]]
// CHECK:         %[[C48:.*]] = arith.constant 48 : index
// CHECK:         %[[HS:.*]] = arith.muli %[[H]], %[[C48]]
// CHECK:         %[[T2:.*]] = arith.addi %[[T1]], %[[HS]]
// CHECK:         %[[C192:.*]] = arith.constant 192 : index
// CHECK:         %[[NS:.*]] = arith.muli %[[N]], %[[C192]]
// CHECK:         %[[T3:.*]] = arith.addi %[[T2]], %[[NS]]
// CHECK:         memref.load %[[A]][%[[T3]]] : memref<192xf32>
func.func @nhwc(%a: memref<1x4x6x8xf32>, %n: index, %h: index, %w: index, %c: index) -> f32 {
  %v = memref.load %a[%n, %h, %w, %c] : memref<1x4x6x8xf32>
  return %v : f32
}

// -----

// A rank-0 buffer (which convert-memref-to-emitc rejects) becomes one
// element, accessed at index 0; so does the function result.

// CHECK-LABEL: func.func @scalar
// CHECK-SAME:    -> (memref<1xi32>, i32)
// CHECK:         %[[S:.*]] = memref.alloc() : memref<1xi32>
// CHECK:         %[[Z:.*]] = arith.constant 0 : index
// CHECK:         memref.store %{{.*}}, %[[S]][%[[Z]]] : memref<1xi32>
// CHECK:         %[[Z2:.*]] = arith.constant 0 : index
// CHECK:         %[[V:.*]] = memref.load %[[S]][%[[Z2]]] : memref<1xi32>
// CHECK:         return %[[S]], %[[V]] : memref<1xi32>, i32
func.func @scalar(%x: i32) -> (memref<i32>, i32) {
  %s = memref.alloc() : memref<i32>
  memref.store %x, %s[] : memref<i32>
  %v = memref.load %s[] : memref<i32>
  return %s, %v : memref<i32>, i32
}

// -----

// Constant weights: the 2-D global becomes 1-D with its data in row-major
// order (1 2 3 / 4 5 6, not 1 4 2 5 3 6), a splat stays a splat, and
// memref.get_global returns the flat type.

// CHECK:       memref.global "private" constant @w : memref<6xi8> = dense<[1, 2, 3, 4, 5, 6]>
// CHECK:       memref.global "private" constant @z : memref<4xf32> = dense<7.000000e+00>
// CHECK-LABEL: func.func @weights
// CHECK:         %[[W:.*]] = memref.get_global @w : memref<6xi8>
// CHECK:         memref.load %[[W]][%{{.*}}] : memref<6xi8>
memref.global "private" constant @w : memref<2x3xi8> = dense<[[1, 2, 3], [4, 5, 6]]>
memref.global "private" constant @z : memref<2x2xf32> = dense<7.0>
func.func @weights(%i: index, %j: index) -> i8 {
  %w = memref.get_global @w : memref<2x3xi8>
  %v = memref.load %w[%i, %j] : memref<2x3xi8>
  return %v : i8
}
