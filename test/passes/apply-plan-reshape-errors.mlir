// Reshapes and partial sums that FDT paths reject, with one line on stderr
// naming the path and the rule (as in apply-plan-errors.mlir). The model,
// float32 linalg on tensors:
//
//   CONV_2D:0 (1x1, 2 -> 4 channels) -> AVERAGE_POOL_2D:1 (global, as TOSA
//   lowers it: collapse H and W, sum, expand, scale) -> FULLY_CONNECTED:2
//   (4 -> 3) -> RELU:3

// DEFINE: %{reject} = not fdt-opt-mlir %s --fdt-apply-plan --fdt-plan
// DEFINE: %{one-line} = FileCheck %s --match-full-lines --implicit-check-not='{{.}}' --check-prefix

// The pool first, for contrast: its input is sliced outside the loop (the
// collapse keeps the channel axis innermost), and the unit dim its expand
// adds drops out of the scaling's map: 2 channels per iteration.
// RUN: echo 'fdt c 2 : AVERAGE_POOL_2D:1 = FULLY_CONNECTED:2 >' > %t.valid.plan
// RUN: fdt-opt-mlir %s --fdt-plan %t.valid.plan --fdt-apply-plan --canonicalize | FileCheck %s --check-prefix=VALID
// VALID:     scf.for %{{.*}} = %c0 to %c4 step %c2
// VALID-NOT: tensor.expand_shape

// The pool after the conv: each element of the collapsed 1x4x4 tensor (H
// and W merged) is copied before the sum, so the merged dim is a loop dim
// of that copy's result. A fold would have to split it and expand the
// result, which fdt-apply-plan does not do; and tiling cannot follow the
// conv's channel slice through the collapse.
// RUN: echo 'fdt c 2 : CONV_2D:0 < AVERAGE_POOL_2D:1 =' > %t.unfoldable.plan
// RUN: %{reject} %t.unfoldable.plan 2>&1 | %{one-line}=UNFOLDABLE
// UNFOLDABLE: fdt-opt-mlir: error: plan path 'fdt c 2 : CONV_2D:0 < AVERAGE_POOL_2D:1 =': AVERAGE_POOL_2D:1 reads through a reshape that cannot be folded into its ops, and tiling cannot follow a slice through a reshape

// '~' on a kernel that is not linear: the RELU of the sum of two partial
// sums is not the sum of their RELUs.
// RUN: echo 'fdt c 2 : AVERAGE_POOL_2D:1 = FULLY_CONNECTED:2 > RELU:3 ~' > %t.partial.plan
// RUN: %{reject} %t.partial.plan 2>&1 | %{one-line}=PARTIAL
// PARTIAL: fdt-opt-mlir: error: plan path 'fdt c 2 : AVERAGE_POOL_2D:1 = FULLY_CONNECTED:2 > RELU:3 ~': role '~' of RELU:3: the partial sums of FULLY_CONNECTED:2 pass through arith.maximumf in RELU:3, which is not linear (f(a + b) = f(a) + f(b)), so the partitions' results cannot be added

#bias = affine_map<(n, h, w, c) -> (c)>
#id = affine_map<(n, h, w, c) -> (n, h, w, c)>
#cin = affine_map<(n, h, w, c, kh, kw, ci) -> (n, h + kh, w + kw, ci)>
#cw = affine_map<(n, h, w, c, kh, kw, ci) -> (c, kh, kw, ci)>
#cout = affine_map<(n, h, w, c, kh, kw, ci) -> (n, h, w, c)>
#id3 = affine_map<(b, m, n) -> (b, m, n)>
#sum_out = affine_map<(b, m, n) -> (b, n)>
#unit = affine_map<(b, m, n) -> (b, m, 0)>
#scalar2 = affine_map<(b, n) -> ()>
#id2 = affine_map<(b, n) -> (b, n)>
#mm_in = affine_map<(b, m, n, k) -> (b, m, k)>
#mm_w = affine_map<(b, m, n, k) -> (b, k, n)>
#mm_out = affine_map<(b, m, n, k) -> (b, m, n)>
#scalar3 = affine_map<(b, m, n) -> ()>

func.func @model(%x: tensor<1x2x2x2xf32>) -> tensor<1x1x3xf32> {
  %zero = arith.constant 0.0 : f32
  %w0 = arith.constant dense<0.5> : tensor<4x1x1x2xf32>
  %b0 = arith.constant dense<0.25> : tensor<4xf32>
  %quarter = arith.constant dense<0.25> : tensor<1x1x1xf32>
  %w2 = arith.constant dense<0.125> : tensor<1x4x3xf32>
  %e0 = tensor.empty() : tensor<1x2x2x4xf32>
  %f0 = linalg.generic {indexing_maps = [#bias, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b0 : tensor<4xf32>) outs(%e0 : tensor<1x2x2x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x2x2x4xf32> loc("CONV_2D:0")
  %c0 = linalg.generic {indexing_maps = [#cin, #cw, #cout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w0 : tensor<1x2x2x2xf32>, tensor<4x1x1x2xf32>) outs(%f0 : tensor<1x2x2x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2x2x4xf32> loc("CONV_2D:0")
  %pixels = tensor.collapse_shape %c0 [[0], [1, 2], [3]] : tensor<1x2x2x4xf32> into tensor<1x4x4xf32> loc("AVERAGE_POOL_2D:1")
  %e1 = tensor.empty() : tensor<1x4x4xf32>
  %copy = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%pixels : tensor<1x4x4xf32>) outs(%e1 : tensor<1x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x4x4xf32> loc("AVERAGE_POOL_2D:1")
  %e2 = tensor.empty() : tensor<1x4xf32>
  %f1 = linalg.generic {indexing_maps = [#scalar2, #id2], iterator_types = ["parallel", "parallel"]} ins(%zero : f32) outs(%e2 : tensor<1x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x4xf32> loc("AVERAGE_POOL_2D:1")
  %sum = linalg.generic {indexing_maps = [#id3, #sum_out], iterator_types = ["parallel", "reduction", "parallel"]} ins(%copy : tensor<1x4x4xf32>) outs(%f1 : tensor<1x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  } -> tensor<1x4xf32> loc("AVERAGE_POOL_2D:1")
  %kept = tensor.expand_shape %sum [[0], [1, 2]] output_shape [1, 1, 4] : tensor<1x4xf32> into tensor<1x1x4xf32> loc("AVERAGE_POOL_2D:1")
  %e3 = tensor.empty() : tensor<1x1x4xf32>
  %mean = linalg.generic {indexing_maps = [#id3, #unit, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%kept, %quarter : tensor<1x1x4xf32>, tensor<1x1x1xf32>) outs(%e3 : tensor<1x1x4xf32>) {
  ^bb0(%in: f32, %k: f32, %out: f32):
    %m = arith.mulf %in, %k : f32
    linalg.yield %m : f32
  } -> tensor<1x1x4xf32> loc("AVERAGE_POOL_2D:1")
  %e4 = tensor.empty() : tensor<1x1x3xf32>
  %f2 = linalg.generic {indexing_maps = [#scalar3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%zero : f32) outs(%e4 : tensor<1x1x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x1x3xf32> loc("FULLY_CONNECTED:2")
  %d2 = linalg.generic {indexing_maps = [#mm_in, #mm_w, #mm_out], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%mean, %w2 : tensor<1x1x4xf32>, tensor<1x4x3xf32>) outs(%f2 : tensor<1x1x3xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x1x3xf32> loc("FULLY_CONNECTED:2")
  %r3 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%d2 : tensor<1x1x3xf32>) outs(%e4 : tensor<1x1x3xf32>) {
  ^bb0(%a: f32, %out: f32):
    %r = arith.maximumf %a, %zero : f32
    linalg.yield %r : f32
  } -> tensor<1x1x3xf32> loc("RELU:3")
  return %r3 : tensor<1x1x3xf32>
}
