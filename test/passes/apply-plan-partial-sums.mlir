// RUN: fdt-opt-mlir %s --split-input-file --fdt-apply-plan --canonicalize | FileCheck %s

// '~': linear kernels after '>' run on each partition's partial sum, inside
// the loop, and the loop adds up their results. The accumulator is the
// path's output (1x1x1), not the '>' kernel's (1x1x16). Constant terms go
// to the first partition only: the '>' kernel's bias add keeps its bias
// when the loop's first partition runs (%[[FIRST]]) and adds 0 otherwise;
// its accumulation starts from a zero fill, which needs no such gate.
//
//   FULLY_CONNECTED:0 (16 -> 12) < TANH:1 = FULLY_CONNECTED:2 (12 -> 16) >
//   MEAN:3 (over the 16 features) ~

// CHECK-LABEL: func.func @dense_mean
// CHECK:         %[[ZERO:.*]] = linalg.generic {{.*}} ins(%[[C0F:.*]] : f32) outs(%{{.*}} : tensor<1x1x1xf32>)
// CHECK:         %[[ACC:.*]] = scf.for %[[C:.*]] = %c0 to %c12 step %c3 iter_args(%[[SUM:.*]] = %[[ZERO]]) -> (tensor<1x1x1xf32>) {
// CHECK:           %[[FIRST:.*]] = arith.cmpi eq, %[[C]], %c0 : index
// CHECK:           %[[F2:.*]] = linalg.generic {{.*}} ins(%[[C0F]] : f32) outs(%{{.*}} : tensor<1x1x16xf32>)
// CHECK:           math.tanh
// CHECK:           %[[P:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x1x3xf32>, tensor<1x3x16xf32>) outs(%[[F2]] : tensor<1x1x16xf32>)
// CHECK:           %[[B:.*]] = linalg.generic {{.*}} ins(%[[P]], %{{.*}} : tensor<1x1x16xf32>, tensor<1x1x16xf32>)
// CHECK-NEXT:      ^bb0(%[[IN:.*]]: f32, %[[BIAS:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:        %[[GATED:.*]] = arith.select %[[FIRST]], %[[BIAS]], %[[C0F]] : f32
// CHECK-NEXT:        arith.addf %[[IN]], %[[GATED]] : f32
// CHECK:           %[[S:.*]] = linalg.generic {{.*}} ins(%[[B]] : tensor<1x1x16xf32>) outs(%{{.*}} : tensor<1x1x1xf32>)
// CHECK:           %[[M:.*]] = linalg.generic {{.*}} ins(%[[S]] : tensor<1x1x1xf32>) outs(%{{.*}} : tensor<1x1x1xf32>)
// CHECK:           %[[NEXT:.*]] = linalg.generic {{.*}} ins(%[[M]] : tensor<1x1x1xf32>) outs(%[[SUM]] : tensor<1x1x1xf32>)
// CHECK-NEXT:      ^bb0(%[[X:.*]]: f32, %[[Y:.*]]: f32):
// CHECK-NEXT:        arith.addf %[[X]], %[[Y]] : f32
// CHECK:           scf.yield %[[NEXT]] : tensor<1x1x1xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    return %[[ACC]] : tensor<1x1x1xf32>
#mm_in = affine_map<(b, m, n, k) -> (b, m, k)>
#mm_w = affine_map<(b, m, n, k) -> (b, k, n)>
#mm_out = affine_map<(b, m, n, k) -> (b, m, n)>
#id3 = affine_map<(b, m, n) -> (b, m, n)>
#scalar3 = affine_map<(b, m, n) -> ()>
#sum_out = affine_map<(b, m, n) -> (b, m, 0)>

"fdt.path"() {family = "fdt", axis = "c", parts = array<i64: 4>, kernels = ["FULLY_CONNECTED:0", "TANH:1", "FULLY_CONNECTED:2", "MEAN:3"], roles = "<=>~"} : () -> ()
func.func @dense_mean(%x: tensor<1x1x16xf32>) -> tensor<1x1x1xf32> {
  %zero = arith.constant 0.0 : f32
  %w0 = arith.constant dense<0.5> : tensor<1x16x12xf32>
  %b0 = arith.constant dense<[[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0]]]> : tensor<1x1x12xf32>
  %w2 = arith.constant dense<0.25> : tensor<1x12x16xf32>
  %b2 = arith.constant dense<0.125> : tensor<1x1x16xf32>
  %inv = arith.constant 6.250000e-02 : f32
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
  %e3 = tensor.empty() : tensor<1x1x1xf32>
  %f3 = linalg.generic {indexing_maps = [#scalar3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%zero : f32) outs(%e3 : tensor<1x1x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x1x1xf32> loc("MEAN:3")
  %s3 = linalg.generic {indexing_maps = [#id3, #sum_out], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a2 : tensor<1x1x16xf32>) outs(%f3 : tensor<1x1x1xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %a, %acc : f32
    linalg.yield %s : f32
  } -> tensor<1x1x1xf32> loc("MEAN:3")
  %r3 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s3 : tensor<1x1x1xf32>) outs(%e3 : tensor<1x1x1xf32>) {
  ^bb0(%a: f32, %out: f32):
    %q = arith.mulf %a, %inv : f32
    linalg.yield %q : f32
  } -> tensor<1x1x1xf32> loc("MEAN:3")
  return %r3 : tensor<1x1x1xf32>
}

// -----

#mm_in = affine_map<(b, m, n, k) -> (b, m, k)>
#mm_w = affine_map<(b, m, n, k) -> (b, k, n)>
#mm_out = affine_map<(b, m, n, k) -> (b, m, n)>
#id3 = affine_map<(b, m, n) -> (b, m, n)>
#bias3 = affine_map<(b, m, n) -> (n)>

// A '>' kernel whose accumulation starts from its bias (as a conv lowers):
// the loop recomputes that broadcast per partition and gates it, so the
// bias is added once. MUL:1 (a scaling) is the '~' kernel; the first
// partition is the whole input (the path starts at the '>').

// CHECK-LABEL: func.func @bias_init
// CHECK:         scf.for %[[C:.*]] = %c0 to %c8 step %c4 iter_args(%[[SUM:.*]] = %{{.*}}) -> (tensor<1x1x4xf32>) {
// CHECK:           %[[FIRST:.*]] = arith.cmpi eq, %[[C]], %c0 : index
// CHECK:           %[[BROADCAST:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<4xf32>) outs(%{{.*}} : tensor<1x1x4xf32>)
// CHECK:           %[[INIT:.*]] = linalg.generic {{.*}} ins(%[[BROADCAST]] : tensor<1x1x4xf32>)
// CHECK-NEXT:      ^bb0(%[[B:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:        arith.select %[[FIRST]], %[[B]], %{{.*}} : f32
// CHECK:           %[[P:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x1x4xf32>, tensor<1x4x4xf32>) outs(%[[INIT]] : tensor<1x1x4xf32>)
// CHECK:           %[[Q:.*]] = linalg.generic {{.*}} ins(%[[P]] : tensor<1x1x4xf32>)
// CHECK:             arith.mulf
// CHECK:           linalg.generic {{.*}} ins(%[[Q]] : tensor<1x1x4xf32>) outs(%[[SUM]] : tensor<1x1x4xf32>)

"fdt.path"() {family = "fdt", axis = "c", parts = array<i64: 2>, kernels = ["FULLY_CONNECTED:0", "MUL:1"], roles = ">~"} : () -> ()
func.func @bias_init(%x: tensor<1x1x8xf32>) -> tensor<1x1x4xf32> {
  %w = arith.constant dense<0.5> : tensor<1x8x4xf32>
  %b = arith.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %half = arith.constant 0.5 : f32
  %e = tensor.empty() : tensor<1x1x4xf32>
  %init = linalg.generic {indexing_maps = [#bias3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%b : tensor<4xf32>) outs(%e : tensor<1x1x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x1x4xf32> loc("FULLY_CONNECTED:0")
  %m = linalg.generic {indexing_maps = [#mm_in, #mm_w, #mm_out], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %w : tensor<1x1x8xf32>, tensor<1x8x4xf32>) outs(%init : tensor<1x1x4xf32>) {
  ^bb0(%a: f32, %c: f32, %acc: f32):
    %p = arith.mulf %a, %c : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x1x4xf32> loc("FULLY_CONNECTED:0")
  %y = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m : tensor<1x1x4xf32>) outs(%e : tensor<1x1x4xf32>) {
  ^bb0(%a: f32, %out: f32):
    %q = arith.mulf %a, %half : f32
    linalg.yield %q : f32
  } -> tensor<1x1x4xf32> loc("MUL:1")
  return %y : tensor<1x1x4xf32>
}
