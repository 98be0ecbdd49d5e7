// RUN: fdt-opt-mlir %s --split-input-file --fdt-apply-plan --canonicalize | FileCheck %s

// Fused depthwise tiling (FDT): plans split the channel axis, and each
// kernel of a path has a role. The inputs are linalg on tensors as
// tosa-to-linalg leaves an int8 model (a bias fill, the int32 conv, a
// requantization, here shortened to a truncation), each op located by the
// name of the operator it comes from: fdt-apply-plan finds kernels by that
// name.

#bias = affine_map<(n, h, w, c) -> (c)>
#id = affine_map<(n, h, w, c) -> (n, h, w, c)>
#scalar = affine_map<(n, h, w, c) -> ()>
#cin = affine_map<(n, h, w, c, kh, kw, ci) -> (n, h + kh, w + kw, ci)>
#cw = affine_map<(n, h, w, c, kh, kw, ci) -> (c, kh, kw, ci)>
#cout = affine_map<(n, h, w, c, kh, kw, ci) -> (n, h, w, c)>
#din = affine_map<(n, h, w, c, kh, kw) -> (n, h + kh, w + kw, c)>
#dw = affine_map<(n, h, w, c, kh, kw) -> (kh, kw, c)>
#dout = affine_map<(n, h, w, c, kh, kw) -> (n, h, w, c)>

// '<' then '=': a 1x1 conv computes 2 of its 8 output channels per
// iteration, from the whole input with the matching 2 filters and biases;
// the depthwise conv after it (pad, conv, bias add, requantization) works on
// those 2 channels only, and writes them in place into the loop's iter_arg,
// which is the result. No op of either kernel is left outside the loop, and
// the applied fdt.path op is gone.

// CHECK-NOT:   fdt.path
// CHECK-LABEL: func.func @pointwise_depthwise
// CHECK-SAME:    (%[[X:.*]]: tensor<1x4x4x2xi8>)
// CHECK-DAG:     %[[W0:.*]] = arith.constant dense<{{.*}}> : tensor<8x1x1x2xi8>
// CHECK-DAG:     %[[B0:.*]] = arith.constant dense<[1, 2, 3, 4, 5, 6, 7, 8]> : tensor<8xi32>
// CHECK-DAG:     %[[B1:.*]] = arith.constant dense<[10, 20, 30, 40, 50, 60, 70, 80]> : tensor<8xi32>
// CHECK-DAG:     %[[W1:.*]] = arith.constant dense<2> : tensor<3x3x2xi8>
// CHECK-NOT:     linalg.generic
// CHECK:         %[[R:.*]] = scf.for %[[C:.*]] = %c0 to %c8 step %c2 iter_args(%[[OUT:.*]] = %{{.*}}) -> (tensor<1x4x4x8xi8>) {
// CHECK-DAG:       %[[B1S:.*]] = tensor.extract_slice %[[B1]][%[[C]]] [2] [1]
// CHECK-DAG:       %[[W0S:.*]] = tensor.extract_slice %[[W0]][%[[C]], 0, 0, 0] [2, 1, 1, 2] [1, 1, 1, 1]
// CHECK-DAG:       %[[B0S:.*]] = tensor.extract_slice %[[B0]][%[[C]]] [2] [1]
// CHECK:           %[[F0:.*]] = linalg.generic {{.*}} ins(%[[B0S]] : tensor<2xi32>) outs(%{{.*}} : tensor<1x4x4x2xi32>)
// CHECK:           %[[C0:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[W0S]] : tensor<1x4x4x2xi8>, tensor<2x1x1x2xi8>) outs(%[[F0]] : tensor<1x4x4x2xi32>)
// CHECK:           %[[Q0:.*]] = linalg.generic {{.*}} ins(%[[C0]] : tensor<1x4x4x2xi32>) outs(%{{.*}} : tensor<1x4x4x2xi8>)
// CHECK:           %[[P:.*]] = tensor.pad %[[Q0]] low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK:           } : tensor<1x4x4x2xi8> to tensor<1x6x6x2xi8>
// CHECK:           %[[F1:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x4x4x2xi32>)
// CHECK:           %[[C1:.*]] = linalg.generic {{.*}} ins(%[[P]], %[[W1]] : tensor<1x6x6x2xi8>, tensor<3x3x2xi8>) outs(%[[F1]] : tensor<1x4x4x2xi32>)
// CHECK:           %[[A1:.*]] = linalg.generic {{.*}} ins(%[[B1S]], %[[C1]] : tensor<2xi32>, tensor<1x4x4x2xi32>)
// CHECK:           %[[DST:.*]] = tensor.extract_slice %[[OUT]][0, 0, 0, %[[C]]] [1, 4, 4, 2] [1, 1, 1, 1]
// CHECK:           %[[Q1:.*]] = linalg.generic {{.*}} ins(%[[A1]] : tensor<1x4x4x2xi32>) outs(%[[DST]] : tensor<1x4x4x2xi8>)
// CHECK:           %[[INS:.*]] = tensor.insert_slice %[[Q1]] into %[[OUT]][0, 0, 0, %[[C]]] [1, 4, 4, 2] [1, 1, 1, 1]
// CHECK-NEXT:      scf.yield %[[INS]] : tensor<1x4x4x8xi8>
// CHECK-NEXT:    }
// CHECK-NEXT:    return %[[R]] : tensor<1x4x4x8xi8>

"fdt.path"() {family = "fdt", axis = "c", parts = array<i64: 4>, kernels = ["CONV_2D:0", "DEPTHWISE_CONV_2D:1"], roles = "<="} : () -> ()
func.func @pointwise_depthwise(%x: tensor<1x4x4x2xi8>) -> tensor<1x4x4x8xi8> {
  %w0 = arith.constant dense<[[[[1, 2]]], [[[3, 4]]], [[[5, 6]]], [[[7, 8]]], [[[9, 10]]], [[[11, 12]]], [[[13, 14]]], [[[15, 16]]]]> : tensor<8x1x1x2xi8>
  %b0 = arith.constant dense<[1, 2, 3, 4, 5, 6, 7, 8]> : tensor<8xi32>
  %w1 = arith.constant dense<2> : tensor<3x3x8xi8>
  %b1 = arith.constant dense<[10, 20, 30, 40, 50, 60, 70, 80]> : tensor<8xi32>
  %zero = arith.constant 0 : i32
  %pad = arith.constant -128 : i8
  %e32 = tensor.empty() : tensor<1x4x4x8xi32>
  %e8 = tensor.empty() : tensor<1x4x4x8xi8>
  %f0 = linalg.generic {indexing_maps = [#bias, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b0 : tensor<8xi32>) outs(%e32 : tensor<1x4x4x8xi32>) {
  ^bb0(%in: i32, %out: i32):
    linalg.yield %in : i32
  } -> tensor<1x4x4x8xi32> loc("CONV_2D:0")
  %c0 = linalg.generic {indexing_maps = [#cin, #cw, #cout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w0 : tensor<1x4x4x2xi8>, tensor<8x1x1x2xi8>) outs(%f0 : tensor<1x4x4x8xi32>) {
  ^bb0(%a: i8, %b: i8, %acc: i32):
    %a32 = arith.extsi %a : i8 to i32
    %b32 = arith.extsi %b : i8 to i32
    %m = arith.muli %a32, %b32 : i32
    %s = arith.addi %acc, %m : i32
    linalg.yield %s : i32
  } -> tensor<1x4x4x8xi32> loc("CONV_2D:0")
  %q0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c0 : tensor<1x4x4x8xi32>) outs(%e8 : tensor<1x4x4x8xi8>) {
  ^bb0(%in: i32, %out: i8):
    %t = arith.trunci %in : i32 to i8
    linalg.yield %t : i8
  } -> tensor<1x4x4x8xi8> loc("CONV_2D:0")
  %p = tensor.pad %q0 low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %pad : i8
  } : tensor<1x4x4x8xi8> to tensor<1x6x6x8xi8> loc("DEPTHWISE_CONV_2D:1")
  %f1 = linalg.generic {indexing_maps = [#scalar, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%zero : i32) outs(%e32 : tensor<1x4x4x8xi32>) {
  ^bb0(%in: i32, %out: i32):
    linalg.yield %in : i32
  } -> tensor<1x4x4x8xi32> loc("DEPTHWISE_CONV_2D:1")
  %c1 = linalg.generic {indexing_maps = [#din, #dw, #dout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%p, %w1 : tensor<1x6x6x8xi8>, tensor<3x3x8xi8>) outs(%f1 : tensor<1x4x4x8xi32>) {
  ^bb0(%a: i8, %b: i8, %acc: i32):
    %a32 = arith.extsi %a : i8 to i32
    %b32 = arith.extsi %b : i8 to i32
    %m = arith.muli %a32, %b32 : i32
    %s = arith.addi %acc, %m : i32
    linalg.yield %s : i32
  } -> tensor<1x4x4x8xi32> loc("DEPTHWISE_CONV_2D:1")
  %a1 = linalg.generic {indexing_maps = [#bias, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b1, %c1 : tensor<8xi32>, tensor<1x4x4x8xi32>) outs(%e32 : tensor<1x4x4x8xi32>) {
  ^bb0(%b: i32, %in: i32, %out: i32):
    %s = arith.addi %b, %in : i32
    linalg.yield %s : i32
  } -> tensor<1x4x4x8xi32> loc("DEPTHWISE_CONV_2D:1")
  %q1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%a1 : tensor<1x4x4x8xi32>) outs(%e8 : tensor<1x4x4x8xi8>) {
  ^bb0(%in: i32, %out: i8):
    %t = arith.trunci %in : i32 to i8
    linalg.yield %t : i8
  } -> tensor<1x4x4x8xi8> loc("DEPTHWISE_CONV_2D:1")
  return %q1 : tensor<1x4x4x8xi8>
}

// -----

#bias = affine_map<(n, h, w, c) -> (c)>
#id = affine_map<(n, h, w, c) -> (n, h, w, c)>
#scalar = affine_map<(n, h, w, c) -> ()>
#cin = affine_map<(n, h, w, c, kh, kw, ci) -> (n, h + kh, w + kw, ci)>
#cw = affine_map<(n, h, w, c, kh, kw, ci) -> (c, kh, kw, ci)>
#cout = affine_map<(n, h, w, c, kh, kw, ci) -> (n, h, w, c)>
#din = affine_map<(n, h, w, c, kh, kw) -> (n, h + kh, w + kw, c)>
#dw = affine_map<(n, h, w, c, kh, kw) -> (kh, kw, c)>
#dout = affine_map<(n, h, w, c, kh, kw) -> (n, h, w, c)>

// '<' '=' '>': a block like the one above (its depthwise conv VALID here,
// without a pad) that ends with a 1x1 conv down to 3 channels, which mixes
// all 8. The loop runs over that conv's reduction (its input channels): each
// iteration adds the partial sums of 2 input channels, with the matching
// slice of its filters, into one full-size int32 accumulator carried by the
// loop and initialised with the biases before it. Requantization needs the
// whole sum, so it comes after the loop.

// CHECK-LABEL: func.func @block
// CHECK-SAME:    (%[[X:.*]]: tensor<1x4x4x2xi8>)
// CHECK-DAG:     %[[W2:.*]] = arith.constant dense<{{.*}}> : tensor<3x1x1x8xi8>
// CHECK-DAG:     %[[B2:.*]] = arith.constant dense<[100, 200, 300]> : tensor<3xi32>
// CHECK:         %[[INIT:.*]] = linalg.generic {{.*}} ins(%[[B2]] : tensor<3xi32>) outs(%{{.*}} : tensor<1x2x2x3xi32>)
// CHECK-NOT:     linalg.generic
// CHECK:         %[[ACC:.*]] = scf.for %[[C:.*]] = %c0 to %c8 step %c2 iter_args(%[[SUM:.*]] = %[[INIT]]) -> (tensor<1x2x2x3xi32>) {
// CHECK:           linalg.generic {{.*}} ins(%[[X]], %{{.*}} : tensor<1x4x4x2xi8>, tensor<2x1x1x2xi8>) outs(%{{.*}} : tensor<1x4x4x2xi32>)
// CHECK:           %[[Q0:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x4x4x2xi8>)
// CHECK:           %[[D:.*]] = linalg.generic {{.*}} ins(%[[Q0]], %{{.*}} : tensor<1x4x4x2xi8>, tensor<3x3x2xi8>) outs(%{{.*}} : tensor<1x2x2x2xi32>)
// CHECK:           %[[Q1:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x2x2x2xi8>)
// CHECK:           %[[W2S:.*]] = tensor.extract_slice %[[W2]][0, 0, 0, %[[C]]] [3, 1, 1, 2] [1, 1, 1, 1]
// CHECK:           %[[PART:.*]] = linalg.generic {{.*}} ins(%[[Q1]], %[[W2S]] : tensor<1x2x2x2xi8>, tensor<3x1x1x2xi8>) outs(%[[SUM]] : tensor<1x2x2x3xi32>)
// CHECK-NEXT:        ^bb0
// CHECK:             arith.muli
// CHECK-NEXT:        arith.addi
// CHECK:           scf.yield %[[PART]] : tensor<1x2x2x3xi32>
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[Q2:.*]] = linalg.generic {{.*}} ins(%[[ACC]] : tensor<1x2x2x3xi32>) outs(%{{.*}} : tensor<1x2x2x3xi8>)
// CHECK:         return %[[Q2]] : tensor<1x2x2x3xi8>

"fdt.path"() {family = "fdt", axis = "c", parts = array<i64: 4>, kernels = ["CONV_2D:0", "DEPTHWISE_CONV_2D:1", "CONV_2D:2"], roles = "<=>"} : () -> ()
func.func @block(%x: tensor<1x4x4x2xi8>) -> tensor<1x2x2x3xi8> {
  %w0 = arith.constant dense<1> : tensor<8x1x1x2xi8>
  %b0 = arith.constant dense<5> : tensor<8xi32>
  %w1 = arith.constant dense<2> : tensor<3x3x8xi8>
  %b1 = arith.constant dense<7> : tensor<8xi32>
  %w2 = arith.constant dense<[[[[1, 2, 3, 4, 5, 6, 7, 8]]], [[[9, 10, 11, 12, 13, 14, 15, 16]]], [[[17, 18, 19, 20, 21, 22, 23, 24]]]]> : tensor<3x1x1x8xi8>
  %b2 = arith.constant dense<[100, 200, 300]> : tensor<3xi32>
  %zero = arith.constant 0 : i32
  %e0 = tensor.empty() : tensor<1x4x4x8xi32>
  %e0q = tensor.empty() : tensor<1x4x4x8xi8>
  %f0 = linalg.generic {indexing_maps = [#bias, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b0 : tensor<8xi32>) outs(%e0 : tensor<1x4x4x8xi32>) {
  ^bb0(%in: i32, %out: i32):
    linalg.yield %in : i32
  } -> tensor<1x4x4x8xi32> loc("CONV_2D:0")
  %c0 = linalg.generic {indexing_maps = [#cin, #cw, #cout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w0 : tensor<1x4x4x2xi8>, tensor<8x1x1x2xi8>) outs(%f0 : tensor<1x4x4x8xi32>) {
  ^bb0(%a: i8, %b: i8, %acc: i32):
    %a32 = arith.extsi %a : i8 to i32
    %b32 = arith.extsi %b : i8 to i32
    %m = arith.muli %a32, %b32 : i32
    %s = arith.addi %acc, %m : i32
    linalg.yield %s : i32
  } -> tensor<1x4x4x8xi32> loc("CONV_2D:0")
  %q0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c0 : tensor<1x4x4x8xi32>) outs(%e0q : tensor<1x4x4x8xi8>) {
  ^bb0(%in: i32, %out: i8):
    %t = arith.trunci %in : i32 to i8
    linalg.yield %t : i8
  } -> tensor<1x4x4x8xi8> loc("CONV_2D:0")
  %e1 = tensor.empty() : tensor<1x2x2x8xi32>
  %e1q = tensor.empty() : tensor<1x2x2x8xi8>
  %f1 = linalg.generic {indexing_maps = [#scalar, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%zero : i32) outs(%e1 : tensor<1x2x2x8xi32>) {
  ^bb0(%in: i32, %out: i32):
    linalg.yield %in : i32
  } -> tensor<1x2x2x8xi32> loc("DEPTHWISE_CONV_2D:1")
  %c1 = linalg.generic {indexing_maps = [#din, #dw, #dout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%q0, %w1 : tensor<1x4x4x8xi8>, tensor<3x3x8xi8>) outs(%f1 : tensor<1x2x2x8xi32>) {
  ^bb0(%a: i8, %b: i8, %acc: i32):
    %a32 = arith.extsi %a : i8 to i32
    %b32 = arith.extsi %b : i8 to i32
    %m = arith.muli %a32, %b32 : i32
    %s = arith.addi %acc, %m : i32
    linalg.yield %s : i32
  } -> tensor<1x2x2x8xi32> loc("DEPTHWISE_CONV_2D:1")
  %a1 = linalg.generic {indexing_maps = [#bias, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b1, %c1 : tensor<8xi32>, tensor<1x2x2x8xi32>) outs(%e1 : tensor<1x2x2x8xi32>) {
  ^bb0(%b: i32, %in: i32, %out: i32):
    %s = arith.addi %b, %in : i32
    linalg.yield %s : i32
  } -> tensor<1x2x2x8xi32> loc("DEPTHWISE_CONV_2D:1")
  %q1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%a1 : tensor<1x2x2x8xi32>) outs(%e1q : tensor<1x2x2x8xi8>) {
  ^bb0(%in: i32, %out: i8):
    %t = arith.trunci %in : i32 to i8
    linalg.yield %t : i8
  } -> tensor<1x2x2x8xi8> loc("DEPTHWISE_CONV_2D:1")
  %e2 = tensor.empty() : tensor<1x2x2x3xi32>
  %e2q = tensor.empty() : tensor<1x2x2x3xi8>
  %f2 = linalg.generic {indexing_maps = [#bias, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b2 : tensor<3xi32>) outs(%e2 : tensor<1x2x2x3xi32>) {
  ^bb0(%in: i32, %out: i32):
    linalg.yield %in : i32
  } -> tensor<1x2x2x3xi32> loc("CONV_2D:2")
  %c2 = linalg.generic {indexing_maps = [#cin, #cw, #cout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%q1, %w2 : tensor<1x2x2x8xi8>, tensor<3x1x1x8xi8>) outs(%f2 : tensor<1x2x2x3xi32>) {
  ^bb0(%a: i8, %b: i8, %acc: i32):
    %a32 = arith.extsi %a : i8 to i32
    %b32 = arith.extsi %b : i8 to i32
    %m = arith.muli %a32, %b32 : i32
    %s = arith.addi %acc, %m : i32
    linalg.yield %s : i32
  } -> tensor<1x2x2x3xi32> loc("CONV_2D:2")
  %q2 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c2 : tensor<1x2x2x3xi32>) outs(%e2q : tensor<1x2x2x3xi8>) {
  ^bb0(%in: i32, %out: i8):
    %t = arith.trunci %in : i32 to i8
    linalg.yield %t : i8
  } -> tensor<1x2x2x3xi8> loc("CONV_2D:2")
  return %q2 : tensor<1x2x2x3xi8>
}

// -----

#bias = affine_map<(n, h, w, c) -> (c)>
#id = affine_map<(n, h, w, c) -> (n, h, w, c)>
#cin = affine_map<(n, h, w, c, kh, kw, ci) -> (n, h + kh, w + kw, ci)>
#cw = affine_map<(n, h, w, c, kh, kw, ci) -> (c, kh, kw, ci)>
#cout = affine_map<(n, h, w, c, kh, kw, ci) -> (n, h, w, c)>

// An uneven partition: 3 parts of 8 channels. The step is ceil(8 / 3) = 3
// and the last slice has 8 - 6 = 2 channels, so every slice is sized by
// affine.min(8 - c, 3) and has a dynamic channel extent. '<' '>' with no
// '=' between: a pair of 1x1 convs, the second accumulating the first's
// slices.

// CHECK:       #[[$MIN:.*]] = affine_map<(d0) -> (-d0 + 8, 3)>
// CHECK-LABEL: func.func @uneven
// CHECK-SAME:    (%[[X:.*]]: tensor<1x4x4x2xi8>)
// CHECK:         %[[ACC:.*]] = scf.for %[[C:.*]] = %c0 to %c8 step %c3 iter_args(%[[SUM:.*]] = %{{.*}}) -> (tensor<1x4x4x2xi32>) {
// CHECK-NEXT:      %[[N:.*]] = affine.min #[[$MIN]](%[[C]])
// CHECK-DAG:       %[[W0S:.*]] = tensor.extract_slice %{{.*}}[%[[C]], 0, 0, 0] [%[[N]], 1, 1, 2] [1, 1, 1, 1] : tensor<8x1x1x2xi8> to tensor<?x1x1x2xi8>
// CHECK-DAG:       %[[B0S:.*]] = tensor.extract_slice %{{.*}}[%[[C]]] [%[[N]]] [1] : tensor<8xi32> to tensor<?xi32>
// CHECK:           %[[F0:.*]] = linalg.generic {{.*}} ins(%[[B0S]] : tensor<?xi32>) outs(%{{.*}} : tensor<1x4x4x?xi32>)
// CHECK:           %[[C0:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[W0S]] : tensor<1x4x4x2xi8>, tensor<?x1x1x2xi8>) outs(%[[F0]] : tensor<1x4x4x?xi32>)
// CHECK:           %[[Q0:.*]] = linalg.generic {{.*}} ins(%[[C0]] : tensor<1x4x4x?xi32>) outs(%{{.*}} : tensor<1x4x4x?xi8>)
// CHECK:           %[[W1S:.*]] = tensor.extract_slice %{{.*}}[0, 0, 0, %[[C]]] [2, 1, 1, %[[N]]] [1, 1, 1, 1] : tensor<2x1x1x8xi8> to tensor<2x1x1x?xi8>
// CHECK:           %[[PART:.*]] = linalg.generic {{.*}} ins(%[[Q0]], %[[W1S]] : tensor<1x4x4x?xi8>, tensor<2x1x1x?xi8>) outs(%[[SUM]] : tensor<1x4x4x2xi32>)
// CHECK:           scf.yield %[[PART]] : tensor<1x4x4x2xi32>
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[Q1:.*]] = linalg.generic {{.*}} ins(%[[ACC]] : tensor<1x4x4x2xi32>)
// CHECK:         return %[[Q1]]

"fdt.path"() {family = "fdt", axis = "c", parts = array<i64: 3>, kernels = ["CONV_2D:0", "CONV_2D:1"], roles = "<>"} : () -> ()
func.func @uneven(%x: tensor<1x4x4x2xi8>) -> tensor<1x4x4x2xi8> {
  %w0 = arith.constant dense<1> : tensor<8x1x1x2xi8>
  %b0 = arith.constant dense<[1, 2, 3, 4, 5, 6, 7, 8]> : tensor<8xi32>
  %w1 = arith.constant dense<3> : tensor<2x1x1x8xi8>
  %b1 = arith.constant dense<9> : tensor<2xi32>
  %e0 = tensor.empty() : tensor<1x4x4x8xi32>
  %e0q = tensor.empty() : tensor<1x4x4x8xi8>
  %f0 = linalg.generic {indexing_maps = [#bias, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b0 : tensor<8xi32>) outs(%e0 : tensor<1x4x4x8xi32>) {
  ^bb0(%in: i32, %out: i32):
    linalg.yield %in : i32
  } -> tensor<1x4x4x8xi32> loc("CONV_2D:0")
  %c0 = linalg.generic {indexing_maps = [#cin, #cw, #cout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w0 : tensor<1x4x4x2xi8>, tensor<8x1x1x2xi8>) outs(%f0 : tensor<1x4x4x8xi32>) {
  ^bb0(%a: i8, %b: i8, %acc: i32):
    %a32 = arith.extsi %a : i8 to i32
    %b32 = arith.extsi %b : i8 to i32
    %m = arith.muli %a32, %b32 : i32
    %s = arith.addi %acc, %m : i32
    linalg.yield %s : i32
  } -> tensor<1x4x4x8xi32> loc("CONV_2D:0")
  %q0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c0 : tensor<1x4x4x8xi32>) outs(%e0q : tensor<1x4x4x8xi8>) {
  ^bb0(%in: i32, %out: i8):
    %t = arith.trunci %in : i32 to i8
    linalg.yield %t : i8
  } -> tensor<1x4x4x8xi8> loc("CONV_2D:0")
  %e1 = tensor.empty() : tensor<1x4x4x2xi32>
  %e1q = tensor.empty() : tensor<1x4x4x2xi8>
  %f1 = linalg.generic {indexing_maps = [#bias, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b1 : tensor<2xi32>) outs(%e1 : tensor<1x4x4x2xi32>) {
  ^bb0(%in: i32, %out: i32):
    linalg.yield %in : i32
  } -> tensor<1x4x4x2xi32> loc("CONV_2D:1")
  %c1 = linalg.generic {indexing_maps = [#cin, #cw, #cout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%q0, %w1 : tensor<1x4x4x8xi8>, tensor<2x1x1x8xi8>) outs(%f1 : tensor<1x4x4x2xi32>) {
  ^bb0(%a: i8, %b: i8, %acc: i32):
    %a32 = arith.extsi %a : i8 to i32
    %b32 = arith.extsi %b : i8 to i32
    %m = arith.muli %a32, %b32 : i32
    %s = arith.addi %acc, %m : i32
    linalg.yield %s : i32
  } -> tensor<1x4x4x2xi32> loc("CONV_2D:1")
  %q1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c1 : tensor<1x4x4x2xi32>) outs(%e1q : tensor<1x4x4x2xi8>) {
  ^bb0(%in: i32, %out: i8):
    %t = arith.trunci %in : i32 to i8
    linalg.yield %t : i8
  } -> tensor<1x4x4x2xi8> loc("CONV_2D:1")
  return %q1 : tensor<1x4x4x2xi8>
}

// -----

#mm_in = affine_map<(b, m, n, k) -> (b, m, k)>
#mm_w = affine_map<(b, m, n, k) -> (b, k, n)>
#mm_out = affine_map<(b, m, n, k) -> (b, m, n)>
#id3 = affine_map<(b, m, n) -> (b, m, n)>
#scalar3 = affine_map<(b, m, n) -> ()>

// float32, and the feature axis of dense layers (3-D, as tosa.matmul
// lowers): 12 hidden features in 4 slices of 3. The first layer computes 3
// features from the whole input (its bias add and a tanh follow on those 3);
// the second accumulates their contributions in a full-size float
// accumulator, and adds its bias after the loop. No requantization, no int32.

// CHECK-LABEL: func.func @dense_f32
// CHECK-SAME:    (%[[X:.*]]: tensor<1x1x16xf32>)
// CHECK-DAG:     %[[B0:.*]] = arith.constant dense<{{.*}}> : tensor<1x1x12xf32>
// CHECK-DAG:     %[[B2:.*]] = arith.constant dense<1.250000e-01> : tensor<1x1x16xf32>
// CHECK:         %[[INIT:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x1x16xf32>)
// CHECK-NOT:     linalg.generic
// CHECK:         %[[ACC:.*]] = scf.for %[[C:.*]] = %c0 to %c12 step %c3 iter_args(%[[SUM:.*]] = %[[INIT]]) -> (tensor<1x1x16xf32>) {
// CHECK:           %[[M0:.*]] = linalg.generic {{.*}} ins(%[[X]], %{{.*}} : tensor<1x1x16xf32>, tensor<1x16x3xf32>) outs(%{{.*}} : tensor<1x1x3xf32>)
// CHECK:           %[[B0S:.*]] = tensor.extract_slice %[[B0]][0, 0, %[[C]]] [1, 1, 3] [1, 1, 1]
// CHECK:           %[[A0:.*]] = linalg.generic {{.*}} ins(%[[M0]], %[[B0S]] : tensor<1x1x3xf32>, tensor<1x1x3xf32>)
// CHECK:           %[[T:.*]] = linalg.generic {{.*}} ins(%[[A0]] : tensor<1x1x3xf32>)
// CHECK:             math.tanh
// CHECK:           %[[PART:.*]] = linalg.generic {{.*}} ins(%[[T]], %{{.*}} : tensor<1x1x3xf32>, tensor<1x3x16xf32>) outs(%[[SUM]] : tensor<1x1x16xf32>)
// CHECK:           scf.yield %[[PART]] : tensor<1x1x16xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[Y:.*]] = linalg.generic {{.*}} ins(%[[ACC]], %[[B2]] : tensor<1x1x16xf32>, tensor<1x1x16xf32>)
// CHECK:         return %[[Y]] : tensor<1x1x16xf32>

"fdt.path"() {family = "fdt", axis = "c", parts = array<i64: 4>, kernels = ["FULLY_CONNECTED:0", "TANH:1", "FULLY_CONNECTED:2"], roles = "<=>"} : () -> ()
func.func @dense_f32(%x: tensor<1x1x16xf32>) -> tensor<1x1x16xf32> {
  %zero = arith.constant 0.0 : f32
  %w0 = arith.constant dense<0.5> : tensor<1x16x12xf32>
  %b0 = arith.constant dense<[[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0]]]> : tensor<1x1x12xf32>
  %w2 = arith.constant dense<0.25> : tensor<1x12x16xf32>
  %b2 = arith.constant dense<0.125> : tensor<1x1x16xf32>
  %e0 = tensor.empty() : tensor<1x1x12xf32>
  %f0 = linalg.generic {indexing_maps = [#scalar3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%zero : f32) outs(%e0 : tensor<1x1x12xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x1x12xf32> loc("FULLY_CONNECTED:0")
  %m0 = linalg.generic {indexing_maps = [#mm_in, #mm_w, #mm_out], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w0 : tensor<1x1x16xf32>, tensor<1x16x12xf32>) outs(%f0 : tensor<1x1x12xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x1x12xf32> loc("FULLY_CONNECTED:0")
  %a0 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m0, %b0 : tensor<1x1x12xf32>, tensor<1x1x12xf32>) outs(%e0 : tensor<1x1x12xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<1x1x12xf32> loc("FULLY_CONNECTED:0")
  %t1 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%a0 : tensor<1x1x12xf32>) outs(%e0 : tensor<1x1x12xf32>) {
  ^bb0(%a: f32, %out: f32):
    %t = math.tanh %a : f32
    linalg.yield %t : f32
  } -> tensor<1x1x12xf32> loc("TANH:1")
  %e2 = tensor.empty() : tensor<1x1x16xf32>
  %f2 = linalg.generic {indexing_maps = [#scalar3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%zero : f32) outs(%e2 : tensor<1x1x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x1x16xf32> loc("FULLY_CONNECTED:2")
  %m2 = linalg.generic {indexing_maps = [#mm_in, #mm_w, #mm_out], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%t1, %w2 : tensor<1x1x12xf32>, tensor<1x12x16xf32>) outs(%f2 : tensor<1x1x16xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x1x16xf32> loc("FULLY_CONNECTED:2")
  %a2 = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m2, %b2 : tensor<1x1x16xf32>, tensor<1x1x16xf32>) outs(%e2 : tensor<1x1x16xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<1x1x16xf32> loc("FULLY_CONNECTED:2")
  return %a2 : tensor<1x1x16xf32>
}
