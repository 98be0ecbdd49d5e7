// RUN: fdt-opt-mlir %s --split-input-file --fdt-fold-pad --canonicalize | FileCheck %s

// A 1-D convolution over a padded input. The pad would bufferize to a
// padded copy of the whole input; instead the conv reads the input in place,
// loading only in bounds and yielding the padding value (the input zero
// point) outside, with no clamped index.

#in = affine_map<(d0, d1) -> (d0 + d1)>
#k = affine_map<(d0, d1) -> (d1)>
#o = affine_map<(d0, d1) -> (d0)>

// CHECK-LABEL: func.func @conv1d
// CHECK-SAME:    (%[[X:.*]]: tensor<8xi8>)
// CHECK-NOT:     tensor.pad
// CHECK:         linalg.generic {{.*}} ins(%{{.*}} : tensor<3xi8>) outs(%{{.*}} : tensor<8xi32>)
// CHECK:           %[[O:.*]] = linalg.index 0 : index
// CHECK:           %[[K:.*]] = linalg.index 1 : index
// CHECK:           %[[P:.*]] = affine.apply #{{.*}}()[%[[O]], %[[K]]]
// CHECK:           %[[Q:.*]] = arith.subi %[[P]], %c1
// CHECK:           %[[LO:.*]] = arith.cmpi sge, %[[Q]], %c0
// CHECK:           %[[HI:.*]] = arith.cmpi slt, %[[Q]], %c8
// CHECK:           %[[IN:.*]] = arith.andi %[[LO]], %[[HI]]
// CHECK-NOT:       arith.minsi
// CHECK:           %[[R:.*]] = scf.if %[[IN]] -> (i8) {
// CHECK-NEXT:        %[[V:.*]] = tensor.extract %[[X]][%[[Q]]] : tensor<8xi8>
// CHECK-NEXT:        scf.yield %[[V]] : i8
// CHECK-NEXT:      } else {
// CHECK-NEXT:        scf.yield %c-3_i8 : i8
// CHECK:           arith.extsi %[[R]] : i8 to i32
func.func @conv1d(%x: tensor<8xi8>) -> tensor<8xi32> {
  %pad = arith.constant -3 : i8
  %w = arith.constant dense<[1, 2, 1]> : tensor<3xi8>
  %zero = arith.constant 0 : i32
  %p = tensor.pad %x low[1] high[1] {
  ^bb0(%i: index):
    tensor.yield %pad : i8
  } : tensor<8xi8> to tensor<10xi8>
  %e = tensor.empty() : tensor<8xi32>
  %f = linalg.fill ins(%zero : i32) outs(%e : tensor<8xi32>) -> tensor<8xi32>
  %c = linalg.generic {indexing_maps = [#in, #k, #o], iterator_types = ["parallel", "reduction"]} ins(%p, %w : tensor<10xi8>, tensor<3xi8>) outs(%f : tensor<8xi32>) {
  ^bb0(%a: i8, %b: i8, %acc: i32):
    %a32 = arith.extsi %a : i8 to i32
    %b32 = arith.extsi %b : i8 to i32
    %m = arith.muli %a32, %b32 : i32
    %s = arith.addi %acc, %m : i32
    linalg.yield %s : i32
  } -> tensor<8xi32>
  return %c : tensor<8xi32>
}

// -----

// A tile of the same convolution, as fdt-tile-kernels leaves it: one output
// element reads a window of the input, padded by amounts that depend on the
// tile. Most tiles are interior (their window reaches no padding): the fold
// versions the tile on that, so that the interior reads the input with no
// check per element and only border tiles pay for the bounds checks.

#win = affine_map<(d0, d1) -> (d0 + d1)>
#wk = affine_map<(d0, d1) -> (d1)>
#wo = affine_map<(d0, d1) -> (d0)>

// CHECK-LABEL: func.func @tile
// CHECK-SAME:    (%[[X:.*]]: tensor<8xi8>, %[[OFF:.*]]: index, %[[N:.*]]: index, %[[LO:.*]]: index, %[[HI:.*]]: index)
// CHECK-NOT:     tensor.pad
// The window, 3 elements at 0 in the pad's result, is at -lo in its source
// of %n elements: interior when -lo >= 0 and 3 - lo <= %n.
// CHECK:         %[[FIRST:.*]] = arith.subi %c0, %[[LO]]
// CHECK:         %[[A:.*]] = arith.cmpi sge, %[[FIRST]], %c0
// CHECK:         %[[END:.*]] = arith.subi %c3, %[[LO]]
// CHECK:         %[[B:.*]] = arith.cmpi sle, %[[END]], %[[N]]
// CHECK:         %[[IN:.*]] = arith.andi %[[A]], %[[B]]
// CHECK:         scf.if %[[IN]] -> (tensor<1xi32>)
// CHECK:           linalg.generic
// CHECK-NOT:         arith.select
// CHECK:             %[[Q:.*]] = arith.subi %{{.*}}, %[[LO]]
// CHECK-NEXT:        %[[I:.*]] = arith.addi %[[Q]], %[[OFF]]
// CHECK-NEXT:        tensor.extract %[[X]][%[[I]]] : tensor<8xi8>
// CHECK-NOT:         arith.select
// CHECK:             linalg.yield
// CHECK:         } else {
// CHECK:           linalg.generic
// CHECK:             arith.cmpi sge
// CHECK:             scf.if
// CHECK-NEXT:          tensor.extract %[[X]]
func.func @tile(%x: tensor<8xi8>, %off: index, %n: index, %lo: index, %hi: index) -> tensor<1xi32> {
  %pad = arith.constant -3 : i8
  %w = arith.constant dense<[1, 2, 1]> : tensor<3xi8>
  %zero = arith.constant 0 : i32
  %s = tensor.extract_slice %x[%off] [%n] [1] : tensor<8xi8> to tensor<?xi8>
  %p = tensor.pad %s low[%lo] high[%hi] {
  ^bb0(%i: index):
    tensor.yield %pad : i8
  } : tensor<?xi8> to tensor<3xi8>
  %e = tensor.empty() : tensor<1xi32>
  %f = linalg.fill ins(%zero : i32) outs(%e : tensor<1xi32>) -> tensor<1xi32>
  %c = linalg.generic {indexing_maps = [#win, #wk, #wo], iterator_types = ["parallel", "reduction"]} ins(%p, %w : tensor<3xi8>, tensor<3xi8>) outs(%f : tensor<1xi32>) {
  ^bb0(%a: i8, %b: i8, %acc: i32):
    %a32 = arith.extsi %a : i8 to i32
    %b32 = arith.extsi %b : i8 to i32
    %m = arith.muli %a32, %b32 : i32
    %t = arith.addi %acc, %m : i32
    linalg.yield %t : i32
  } -> tensor<1xi32>
  return %c : tensor<1xi32>
}

// -----

// An elementwise reader of a pad (a TFLite PAD before a RELU) keeps the pad:
// TFLM's PAD writes the padded copy too, and only window readers fold.

#id = affine_map<(d0) -> (d0)>

// CHECK-LABEL: func.func @elementwise
// CHECK:         %[[P:.*]] = tensor.pad
// CHECK:         linalg.generic {{.*}} ins(%[[P]] : tensor<10xi8>)
func.func @elementwise(%x: tensor<8xi8>) -> tensor<10xi8> {
  %pad = arith.constant -3 : i8
  %zero = arith.constant 0 : i8
  %p = tensor.pad %x low[1] high[1] {
  ^bb0(%i: index):
    tensor.yield %pad : i8
  } : tensor<8xi8> to tensor<10xi8>
  %e = tensor.empty() : tensor<10xi8>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%p : tensor<10xi8>) outs(%e : tensor<10xi8>) {
  ^bb0(%a: i8, %o: i8):
    %m = arith.maxsi %a, %zero : i8
    linalg.yield %m : i8
  } -> tensor<10xi8>
  return %r : tensor<10xi8>
}

// -----

// A sum over the last axis of a padded tensor (a SOFTMAX or MEAN after a
// TFLite PAD, random network seed 48): only the pad spans the reduced axis,
// so without it linalg could not tell the loops' extents. The pad stays.

#in2 = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// CHECK-LABEL: func.func @row_sum
// CHECK:         %[[P:.*]] = tensor.pad
// CHECK:         linalg.generic {{.*}} ins(%[[P]] : tensor<4x10xi32>)
func.func @row_sum(%x: tensor<4x8xi32>) -> tensor<4xi32> {
  %zero = arith.constant 0 : i32
  %p = tensor.pad %x low[0, 1] high[0, 1] {
  ^bb0(%i: index, %j: index):
    tensor.yield %zero : i32
  } : tensor<4x8xi32> to tensor<4x10xi32>
  %e = tensor.empty() : tensor<4xi32>
  %f = linalg.fill ins(%zero : i32) outs(%e : tensor<4xi32>) -> tensor<4xi32>
  %s = linalg.generic {indexing_maps = [#in2, #row], iterator_types = ["parallel", "reduction"]} ins(%p : tensor<4x10xi32>) outs(%f : tensor<4xi32>) {
  ^bb0(%a: i32, %acc: i32):
    %t = arith.addi %a, %acc : i32
    linalg.yield %t : i32
  } -> tensor<4xi32>
  return %s : tensor<4xi32>
}
