// RUN: fdt-opt-mlir %s --split-input-file --fdt-tile-kernels --canonicalize | FileCheck %s

// A dense int8 layer as tosa-to-linalg leaves it: a fill, the int32 matmul,
// and the requantization. The requantization is the root: it is tiled to
// single output elements and the matmul and its fill move into the loop, so
// the int32 accumulator exists for one element at a time.

#scalar = affine_map<(d0) -> ()>
#id = affine_map<(d0) -> (d0)>
#x = affine_map<(d0, d1) -> (d1)>
#w = affine_map<(d0, d1) -> (d1, d0)>
#zp = affine_map<(d0, d1) -> ()>
#acc = affine_map<(d0, d1) -> (d0)>

// CHECK-LABEL: func.func @dense
// CHECK-NOT:     linalg.generic
// CHECK:         scf.for %[[I:.*]] = %c0 to %c4 step %c1 iter_args(%[[OUT:.*]] = %{{.*}}) -> (tensor<4xi8>)
// CHECK:           %[[INIT:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1xi32>)
// CHECK:           %[[SUM:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]{{.*}} ins(%arg0, {{.*}}) outs(%[[INIT]] : tensor<1xi32>)
// CHECK:           %[[Q:.*]] = linalg.generic {{.*}} ins(%[[SUM]] : tensor<1xi32>) outs(%{{.*}} : tensor<1xi8>)
// CHECK:           tensor.insert_slice %[[Q]] into %[[OUT]][%[[I]]] [1] [1]
// CHECK-NOT:     linalg.generic
func.func @dense(%arg0: tensor<8xi8>) -> tensor<4xi8> {
  %w = arith.constant dense<3> : tensor<8x4xi8>
  %zp = arith.constant -5 : i32
  %c0 = arith.constant 0 : i32
  %e32 = tensor.empty() : tensor<4xi32>
  %fill = linalg.generic {indexing_maps = [#scalar, #id], iterator_types = ["parallel"]} ins(%c0 : i32) outs(%e32 : tensor<4xi32>) {
  ^bb0(%in: i32, %out: i32):
    linalg.yield %in : i32
  } -> tensor<4xi32>
  %sum = linalg.generic {indexing_maps = [#x, #w, #zp, #acc], iterator_types = ["parallel", "reduction"]} ins(%arg0, %w, %zp : tensor<8xi8>, tensor<8x4xi8>, i32) outs(%fill : tensor<4xi32>) {
  ^bb0(%in: i8, %wt: i8, %z: i32, %out: i32):
    %a = arith.extsi %in : i8 to i32
    %b = arith.subi %a, %z : i32
    %c = arith.extsi %wt : i8 to i32
    %d = arith.muli %b, %c : i32
    %e = arith.addi %out, %d : i32
    linalg.yield %e : i32
  } -> tensor<4xi32>
  %e8 = tensor.empty() : tensor<4xi8>
  %q = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%sum : tensor<4xi32>) outs(%e8 : tensor<4xi8>) {
  ^bb0(%in: i32, %out: i8):
    %t = arith.trunci %in : i32 to i8
    linalg.yield %t : i8
  } -> tensor<4xi8>
  return %q : tensor<4xi8>
}

// -----

// A consumer that reads a producer through a window (a second conv) would
// recompute it per output: the producer stays a separate kernel.

#in2 = affine_map<(d0, d1) -> (d0 + d1)>
#k2 = affine_map<(d0, d1) -> (d1)>
#o2 = affine_map<(d0, d1) -> (d0)>

// CHECK-LABEL: func.func @window
// CHECK:         %[[FIRST:.*]] = scf.for
// CHECK:         scf.for
// CHECK:           tensor.extract_slice %[[FIRST]]
func.func @window(%arg0: tensor<10xf32>) -> tensor<6xf32> {
  %k = arith.constant dense<1.0> : tensor<3xf32>
  %z = arith.constant 0.0 : f32
  %e8 = tensor.empty() : tensor<8xf32>
  %f8 = linalg.fill ins(%z : f32) outs(%e8 : tensor<8xf32>) -> tensor<8xf32>
  %c1 = linalg.generic {indexing_maps = [#in2, #k2, #o2], iterator_types = ["parallel", "reduction"]} ins(%arg0, %k : tensor<10xf32>, tensor<3xf32>) outs(%f8 : tensor<8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<8xf32>
  %e6 = tensor.empty() : tensor<6xf32>
  %f6 = linalg.fill ins(%z : f32) outs(%e6 : tensor<6xf32>) -> tensor<6xf32>
  %c2 = linalg.generic {indexing_maps = [#in2, #k2, #o2], iterator_types = ["parallel", "reduction"]} ins(%c1, %k : tensor<8xf32>, tensor<3xf32>) outs(%f6 : tensor<6xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<6xf32>
  return %c2 : tensor<6xf32>
}

// -----

// A float mean over H and W, as tosa.reduce_sum lowers it: a sum over H
// (1x2x3x4 -> 1x3x4), then over W into 1x1x4. The second sum's unit H dim
// has one tile, so each of its elements reads its own column of the first
// sum, which moves into the loop: 3 floats per channel, not 1x3x4.
// (The root's fill, its init, is tiled on its own, before.)

#id4 = affine_map<(n, h, w, c) -> (n, h, w, c)>
#sum_h = affine_map<(n, h, w, c) -> (n, w, c)>
#id3 = affine_map<(n, h, c) -> (n, h, c)>
#sum_w_in = affine_map<(n, u, w, c) -> (n, w, c)>
#sum_w_out = affine_map<(n, u, w, c) -> (n, u, c)>
#scalar3 = affine_map<(n, h, c) -> ()>

// CHECK-LABEL: func.func @mean
// CHECK:         %[[INIT:.*]] = scf.for
// CHECK:         scf.for %[[C:.*]] = %c0 to %c4 step %c1 iter_args(%{{.*}} = %[[INIT]])
// CHECK:           %[[X:.*]] = tensor.extract_slice %arg0[0, 0, 0, %[[C]]] [1, 2, 3, 1]
// CHECK:           %[[COLUMN:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<1x2x3x1xf32>) outs(%{{.*}} : tensor<1x3x1xf32>)
// CHECK:           linalg.generic {{.*}} ins(%[[COLUMN]] : tensor<1x3x1xf32>) outs(%{{.*}} : tensor<1x1x1xf32>)
func.func @mean(%x: tensor<1x2x3x4xf32>) -> tensor<1x1x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<1x3x4xf32>
  %f1 = linalg.generic {indexing_maps = [#scalar3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%zero : f32) outs(%e1 : tensor<1x3x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x3x4xf32>
  %s1 = linalg.generic {indexing_maps = [#id4, #sum_h], iterator_types = ["parallel", "reduction", "parallel", "parallel"]} ins(%x : tensor<1x2x3x4xf32>) outs(%f1 : tensor<1x3x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  } -> tensor<1x3x4xf32>
  %e2 = tensor.empty() : tensor<1x1x4xf32>
  %f2 = linalg.generic {indexing_maps = [#scalar3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%zero : f32) outs(%e2 : tensor<1x1x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x1x4xf32>
  %s2 = linalg.generic {indexing_maps = [#sum_w_in, #sum_w_out], iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins(%s1 : tensor<1x3x4xf32>) outs(%f2 : tensor<1x1x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  } -> tensor<1x1x4xf32>
  return %s2 : tensor<1x1x4xf32>
}

// -----

// A kernel's own input offset (int8 -> float, minus the zero point: arith
// ops only, element to element) read through the conv's window moves into
// the loop and is recomputed per tap, as the input offset inside an int8
// conv kernel is: no float copy of the input. The same op of another
// kernel stays outside (that kernel's output is materialised).

#in3 = affine_map<(d0, d1) -> (d0 + d1)>
#k3 = affine_map<(d0, d1) -> (d1)>
#o3 = affine_map<(d0, d1) -> (d0)>
#pw = affine_map<(d0) -> (d0)>

// CHECK-LABEL: func.func @input_offset
// CHECK-NOT:     linalg.generic
// CHECK:         scf.for
// CHECK:           arith.sitofp
// CHECK:           arith.mulf
// CHECK-LABEL: func.func @other_kernel
// CHECK:         %[[OFFSET:.*]] = scf.for {{.*}} -> (tensor<10xf32>)
// CHECK:           arith.sitofp
// CHECK:         scf.for
// CHECK:           tensor.extract_slice %[[OFFSET]]
func.func @input_offset(%arg0: tensor<10xi8>) -> tensor<8xf32> {
  %k = arith.constant dense<1.0> : tensor<3xf32>
  %z = arith.constant 0.0 : f32
  %zp = arith.constant 3.0 : f32
  %e10 = tensor.empty() : tensor<10xf32>
  %x = linalg.generic {indexing_maps = [#pw, #pw], iterator_types = ["parallel"]} ins(%arg0 : tensor<10xi8>) outs(%e10 : tensor<10xf32>) {
  ^bb0(%a: i8, %o: f32):
    %f = arith.sitofp %a : i8 to f32
    %c = arith.subf %f, %zp : f32
    linalg.yield %c : f32
  } -> tensor<10xf32> loc("Conv:0")
  %e8 = tensor.empty() : tensor<8xf32>
  %f8 = linalg.fill ins(%z : f32) outs(%e8 : tensor<8xf32>) -> tensor<8xf32> loc("Conv:0")
  %y = linalg.generic {indexing_maps = [#in3, #k3, #o3], iterator_types = ["parallel", "reduction"]} ins(%x, %k : tensor<10xf32>, tensor<3xf32>) outs(%f8 : tensor<8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<8xf32> loc("Conv:0")
  return %y : tensor<8xf32>
}

func.func @other_kernel(%arg0: tensor<10xi8>) -> tensor<8xf32> {
  %k = arith.constant dense<1.0> : tensor<3xf32>
  %z = arith.constant 0.0 : f32
  %zp = arith.constant 3.0 : f32
  %e10 = tensor.empty() : tensor<10xf32>
  %x = linalg.generic {indexing_maps = [#pw, #pw], iterator_types = ["parallel"]} ins(%arg0 : tensor<10xi8>) outs(%e10 : tensor<10xf32>) {
  ^bb0(%a: i8, %o: f32):
    %f = arith.sitofp %a : i8 to f32
    %c = arith.subf %f, %zp : f32
    linalg.yield %c : f32
  } -> tensor<10xf32> loc("Cast:0")
  %e8 = tensor.empty() : tensor<8xf32>
  %f8 = linalg.fill ins(%z : f32) outs(%e8 : tensor<8xf32>) -> tensor<8xf32> loc("Conv:1")
  %y = linalg.generic {indexing_maps = [#in3, #k3, #o3], iterator_types = ["parallel", "reduction"]} ins(%x, %k : tensor<10xf32>, tensor<3xf32>) outs(%f8 : tensor<8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<8xf32> loc("Conv:1")
  return %y : tensor<8xf32>
}

// -----

// A HardSwish left in fake quantization: x = DQ(q) is read twice inside the
// kernel (x * relu6(x + 3) / 6, here x * (x + 3)), then quantized. Both
// readers move into the loop with the root, so x is fused too, once per
// use (five generics in the loop): no float tensor is left outside it.

#e = affine_map<(d0) -> (d0)>

// CHECK-LABEL: func.func @read_twice
// CHECK-NOT:     linalg.generic
// CHECK:         scf.for {{.*}} -> (tensor<6xi8>)
// CHECK-COUNT-5:   linalg.generic
// CHECK:           tensor.insert_slice
// CHECK-NOT:     linalg.generic
func.func @read_twice(%arg0: tensor<6xi8>) -> tensor<6xi8> {
  %three = arith.constant 3.0 : f32
  %ef = tensor.empty() : tensor<6xf32>
  %x = linalg.generic {indexing_maps = [#e, #e], iterator_types = ["parallel"]} ins(%arg0 : tensor<6xi8>) outs(%ef : tensor<6xf32>) {
  ^bb0(%a: i8, %o: f32):
    %f = arith.sitofp %a : i8 to f32
    linalg.yield %f : f32
  } -> tensor<6xf32> loc("HardSwish:0")
  %shifted = linalg.generic {indexing_maps = [#e, #e], iterator_types = ["parallel"]} ins(%x : tensor<6xf32>) outs(%ef : tensor<6xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.addf %a, %three : f32
    linalg.yield %s : f32
  } -> tensor<6xf32> loc("HardSwish:0")
  %product = linalg.generic {indexing_maps = [#e, #e, #e], iterator_types = ["parallel"]} ins(%x, %shifted : tensor<6xf32>, tensor<6xf32>) outs(%ef : tensor<6xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<6xf32> loc("HardSwish:0")
  %e8 = tensor.empty() : tensor<6xi8>
  %q = linalg.generic {indexing_maps = [#e, #e], iterator_types = ["parallel"]} ins(%product : tensor<6xf32>) outs(%e8 : tensor<6xi8>) {
  ^bb0(%a: f32, %o: i8):
    %t = arith.fptosi %a : f32 to i8
    linalg.yield %t : i8
  } -> tensor<6xi8> loc("HardSwish:0")
  return %q : tensor<6xi8>
}

// -----

// A softmax's shape: e = exp(x), read element for element by the row sum
// and by the output, which divides by the sum it broadcasts along the row.
// The kernel runs row by row, as TFLM's: the output is tiled by rows and
// every other op moves into that loop, so a row's sum is one element (a
// register). e gets a copy per reader: one is summed, the other is
// recomputed per output element, so no row of exps is kept (TFLM's int8
// SOFTMAX also computes each exp twice).

#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
#s1 = affine_map<(d0) -> ()>
#id1 = affine_map<(d0) -> (d0)>

// CHECK-LABEL: func.func @shared_exp
// CHECK-NOT:     math.exp
// CHECK:         scf.for %{{.*}} = %c0 to %c2 step %c1
// CHECK:           math.exp
// CHECK:           iterator_types = ["parallel", "reduction"]{{.*}} outs(%{{.*}} : tensor<1xf32>)
// CHECK-NOT:       scf.yield
// CHECK:           scf.for %{{.*}} = %c0 to %c8 step %c1
// CHECK:             linalg.generic {{.*}} ins(%{{.*}} : tensor<1x1xf32>) outs(%{{.*}} : tensor<1x1xf32>)
// CHECK-NEXT:        ^bb0
// CHECK-NEXT:          math.exp
// CHECK:               arith.divf
// CHECK-NOT:     math.exp
func.func @shared_exp(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e8 = tensor.empty() : tensor<2x8xf32>
  %e = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<2x8xf32>) outs(%e8 : tensor<2x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  } -> tensor<2x8xf32> loc("SOFTMAX:0")
  %e2 = tensor.empty() : tensor<2xf32>
  %init = linalg.generic {indexing_maps = [#s1, #id1], iterator_types = ["parallel"]} ins(%zero : f32) outs(%e2 : tensor<2xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<2xf32> loc("SOFTMAX:0")
  %sum = linalg.generic {indexing_maps = [#id2, #row], iterator_types = ["parallel", "reduction"]} ins(%e : tensor<2x8xf32>) outs(%init : tensor<2xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %a, %o : f32
    linalg.yield %r : f32
  } -> tensor<2xf32> loc("SOFTMAX:0")
  %out = linalg.generic {indexing_maps = [#id2, #row, #id2], iterator_types = ["parallel", "parallel"]} ins(%e, %sum : tensor<2x8xf32>, tensor<2xf32>) outs(%e8 : tensor<2x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<2x8xf32> loc("SOFTMAX:0")
  return %out : tensor<2x8xf32>
}

// -----

// An int8 comparison with a broadcast operand: the operand's rescaling
// (math.absf stands in for it: not arith alone) is read by the comparison
// for several output elements. It moves into the comparison's loop and is
// recomputed per output element, as TFLM's broadcasting kernels do, rather
// than kept whole.

#id2b = affine_map<(d0, d1) -> (d0, d1)>
#bcast = affine_map<(d0, d1) -> (0, d1)>

// CHECK-LABEL: func.func @broadcast_operand
// CHECK-NOT:     math.absf
// CHECK:         scf.for
// CHECK:           scf.for
// CHECK:             math.absf
// CHECK:             arith.cmpf
// CHECK-NOT:     math.absf
func.func @broadcast_operand(%x: tensor<3x4xf32>, %y: tensor<1x4xf32>) -> tensor<3x4xi1> {
  %e1 = tensor.empty() : tensor<1x4xf32>
  %a = linalg.generic {indexing_maps = [#id2b, #id2b], iterator_types = ["parallel", "parallel"]} ins(%y : tensor<1x4xf32>) outs(%e1 : tensor<1x4xf32>) {
  ^bb0(%v: f32, %o: f32):
    %r = math.absf %v : f32
    linalg.yield %r : f32
  } -> tensor<1x4xf32> loc("LESS:0")
  %eb = tensor.empty() : tensor<3x4xi1>
  %c = linalg.generic {indexing_maps = [#id2b, #bcast, #id2b], iterator_types = ["parallel", "parallel"]} ins(%x, %a : tensor<3x4xf32>, tensor<1x4xf32>) outs(%eb : tensor<3x4xi1>) {
  ^bb0(%u: f32, %v: f32, %o: i1):
    %r = arith.cmpf olt, %u, %v : f32
    linalg.yield %r : i1
  } -> tensor<3x4xi1> loc("LESS:0")
  return %c : tensor<3x4xi1>
}
