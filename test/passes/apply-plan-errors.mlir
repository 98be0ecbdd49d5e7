// Bad plans: each path below breaks one rule of fused tiling, and
// fdt-apply-plan rejects it: fdt-opt-mlir fails with exactly one line on
// stderr, naming the path and the rule. The plans come in plan files
// (--fdt-plan), which put one fdt.path op per line into the module, as a
// hand-written op would; one RUN per plan, since the first error stops
// fdt-opt-mlir. This file is also the model, in float32 linalg on tensors:
//
//   CONV_2D:0 (1x1, 2 -> 4 channels) -> RELU:1 -> CONV_2D:2 (1x1, 4 -> 4)
//   -> RELU:3 -> ADD:4 (RELU:3 + CONV_2D:2) -> FULLY_CONNECTED:5 (64 -> 3)

// DEFINE: %{reject} = not fdt-opt-mlir %s --fdt-apply-plan --fdt-plan
// DEFINE: %{one-line} = FileCheck %s --match-full-lines --implicit-check-not='{{.}}' --check-prefix

// The model and a valid plan over it, for contrast: a loop over 2 slices.
// RUN: echo 'fdt c 2 : CONV_2D:0 < RELU:1 = CONV_2D:2 >' > %t.valid.plan
// RUN: fdt-opt-mlir %s --fdt-plan %t.valid.plan --fdt-apply-plan --canonicalize | FileCheck %s --check-prefix=VALID
// VALID: scf.for %{{.*}} = %c0 to %c4 step %c2

// '<' not at the start: an output-partitioned kernel reads its whole input,
// so it can only start a path.
// RUN: echo 'fdt c 2 : RELU:1 = CONV_2D:2 <' > %t.lt-second.plan
// RUN: %{reject} %t.lt-second.plan 2>&1 | %{one-line}=LT-SECOND
// LT-SECOND: fdt-opt-mlir: error: plan path 'fdt c 2 : RELU:1 = CONV_2D:2 <': role '<' of CONV_2D:2: only the first kernel of a path may be output-partitioned

// '>' not at the end: the partial sums are only complete after the loop.
// RUN: echo 'fdt c 2 : CONV_2D:0 > RELU:1 =' > %t.gt-first.plan
// RUN: %{reject} %t.gt-first.plan 2>&1 | %{one-line}=GT-FIRST
// GT-FIRST: fdt-opt-mlir: error: plan path 'fdt c 2 : CONV_2D:0 > RELU:1 =': role '>' of CONV_2D:0: the input-partitioned kernel must end the path (only '~' kernels may follow it)

// A conv given '=': each of its output channels reads every input channel.
// RUN: echo 'fdt c 2 : CONV_2D:0 < RELU:1 = CONV_2D:2 =' > %t.conv-eq.plan
// RUN: %{reject} %t.conv-eq.plan 2>&1 | %{one-line}=CONV-EQ
// CONV-EQ: fdt-opt-mlir: error: plan path 'fdt c 2 : CONV_2D:0 < RELU:1 = CONV_2D:2 =': role '=' of CONV_2D:2: it mixes channels (conv/dense); it can only start ('<') or end ('>') a path

// '~' without a '>' before it: there are no partial sums to apply it to.
// RUN: echo 'fdt c 2 : CONV_2D:0 < RELU:1 ~' > %t.tilde.plan
// RUN: %{reject} %t.tilde.plan 2>&1 | %{one-line}=TILDE
// TILDE: fdt-opt-mlir: error: plan path 'fdt c 2 : CONV_2D:0 < RELU:1 ~': role '~' of RELU:1: a partial-sum kernel must follow the '>' kernel or another '~'

// '<' on an elementwise kernel: channel c of its output needs channel c of
// its input, so it needs a sliced input ('=').
// RUN: echo 'fdt c 2 : RELU:1 < CONV_2D:2 >' > %t.relu-lt.plan
// RUN: %{reject} %t.relu-lt.plan 2>&1 | %{one-line}=RELU-LT
// RELU-LT: fdt-opt-mlir: error: plan path 'fdt c 2 : RELU:1 < CONV_2D:2 >': role '<' of RELU:1: it cannot compute an output-channel slice from its whole input (no conv, dense or gather)

// '>' on an elementwise kernel: it has no reduction over channels to split.
// RUN: echo 'fdt c 2 : CONV_2D:0 < RELU:1 >' > %t.relu-gt.plan
// RUN: %{reject} %t.relu-gt.plan 2>&1 | %{one-line}=RELU-GT
// RELU-GT: fdt-opt-mlir: error: plan path 'fdt c 2 : CONV_2D:0 < RELU:1 >': role '>' of RELU:1: it does not mix channels (no conv or dense)

// An intermediate tensor with another consumer: ADD:4 reads CONV_2D:2's
// output too, and would need all of it, which the path never materialises.
// RUN: echo 'fdt c 2 : CONV_2D:2 < RELU:3 =' > %t.branch.plan
// RUN: %{reject} %t.branch.plan 2>&1 | %{one-line}=BRANCH
// BRANCH: fdt-opt-mlir: error: plan path 'fdt c 2 : CONV_2D:2 < RELU:3 =': the output of CONV_2D:2 is also read by ADD:4, outside the path

// Kernels that are not a chain: RELU:3 reads CONV_2D:2, not CONV_2D:0.
// RUN: echo 'fdt c 2 : CONV_2D:0 < RELU:3 =' > %t.not-chain.plan
// RUN: %{reject} %t.not-chain.plan 2>&1 | %{one-line}=NOT-CHAIN
// NOT-CHAIN: fdt-opt-mlir: error: plan path 'fdt c 2 : CONV_2D:0 < RELU:3 =': RELU:3 does not read the output of CONV_2D:0: a path is a chain

// An unknown kernel name: the message lists the kernels there are.
// RUN: echo 'fdt c 2 : CONV_2D:9 <' > %t.unknown.plan
// RUN: %{reject} %t.unknown.plan 2>&1 | %{one-line}=UNKNOWN
// UNKNOWN: fdt-opt-mlir: error: plan path 'fdt c 2 : CONV_2D:9 <': no kernel named 'CONV_2D:9' (kernels are named after their operators: CONV_2D:0, RELU:1, CONV_2D:2, RELU:3, ADD:4, FULLY_CONNECTED:5)

// More partitions than the split axis has elements (4 channels).
// Paths of one plan must not overlap: RELU:1 is inside the first loop.
// RUN: printf 'fdt c 2 : CONV_2D:0 < RELU:1 =\nfdt c 2 : RELU:1 = CONV_2D:2 >\n' > %t.overlap.plan
// RUN: %{reject} %t.overlap.plan 2>&1 | %{one-line}=OVERLAP
// OVERLAP: fdt-opt-mlir: error: plan path 'fdt c 2 : RELU:1 = CONV_2D:2 >': RELU:1 is already tiled by an earlier path of the plan: paths must not overlap

// RUN: echo 'fdt c 5 : CONV_2D:0 < RELU:1 =' > %t.too-many.plan
// RUN: %{reject} %t.too-many.plan 2>&1 | %{one-line}=TOO-MANY
// TOO-MANY: fdt-opt-mlir: error: plan path 'fdt c 5 : CONV_2D:0 < RELU:1 =': 5 partitions exceed the 4 elements of axis c of RELU:1

// A spatial (FFMT) split through a dense layer: its output has no rows.
// RUN: echo 'ffmt h 2 : ADD:4 FULLY_CONNECTED:5' > %t.dense.plan
// RUN: %{reject} %t.dense.plan 2>&1 | %{one-line}=DENSE
// DENSE: fdt-opt-mlir: error: plan path 'ffmt h 2 : ADD:4 FULLY_CONNECTED:5': FULLY_CONNECTED:5 has no spatial structure (a dense layer, a reshape or a global reduction): FFMT cannot split it

// A channel slice followed into a dense layer that flattens its input is
// valid: the flatten folds into the dense layer (apply-plan-reshape.mlir).
// RUN: echo 'fdt c 2 : ADD:4 = FULLY_CONNECTED:5 >' > %t.reshape.plan
// RUN: fdt-opt-mlir %s --fdt-plan %t.reshape.plan --fdt-apply-plan --canonicalize | FileCheck %s --check-prefix=RESHAPE
// RESHAPE: scf.for %{{.*}} = %c0 to %c4 step %c2

#bias = affine_map<(n, h, w, c) -> (c)>
#id = affine_map<(n, h, w, c) -> (n, h, w, c)>
#cin = affine_map<(n, h, w, c, kh, kw, ci) -> (n, h + kh, w + kw, ci)>
#cw = affine_map<(n, h, w, c, kh, kw, ci) -> (c, kh, kw, ci)>
#cout = affine_map<(n, h, w, c, kh, kw, ci) -> (n, h, w, c)>
#mm_in = affine_map<(b, m, n, k) -> (b, m, k)>
#mm_w = affine_map<(b, m, n, k) -> (b, k, n)>
#mm_out = affine_map<(b, m, n, k) -> (b, m, n)>
#scalar3 = affine_map<(b, m, n) -> ()>
#id3 = affine_map<(b, m, n) -> (b, m, n)>

func.func @model(%x: tensor<1x4x4x2xf32>) -> tensor<1x3xf32> {
  %zero = arith.constant 0.0 : f32
  %w0 = arith.constant dense<0.5> : tensor<4x1x1x2xf32>
  %b0 = arith.constant dense<0.25> : tensor<4xf32>
  %w2 = arith.constant dense<0.125> : tensor<4x1x1x4xf32>
  %b2 = arith.constant dense<1.0> : tensor<4xf32>
  %w5 = arith.constant dense<0.0625> : tensor<1x64x3xf32>
  %e = tensor.empty() : tensor<1x4x4x4xf32>
  %f0 = linalg.generic {indexing_maps = [#bias, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b0 : tensor<4xf32>) outs(%e : tensor<1x4x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x4x4x4xf32> loc("CONV_2D:0")
  %c0 = linalg.generic {indexing_maps = [#cin, #cw, #cout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w0 : tensor<1x4x4x2xf32>, tensor<4x1x1x2xf32>) outs(%f0 : tensor<1x4x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x4x4x4xf32> loc("CONV_2D:0")
  %r1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c0 : tensor<1x4x4x4xf32>) outs(%e : tensor<1x4x4x4xf32>) {
  ^bb0(%a: f32, %out: f32):
    %r = arith.maximumf %a, %zero : f32
    linalg.yield %r : f32
  } -> tensor<1x4x4x4xf32> loc("RELU:1")
  %f2 = linalg.generic {indexing_maps = [#bias, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b2 : tensor<4xf32>) outs(%e : tensor<1x4x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x4x4x4xf32> loc("CONV_2D:2")
  %c2 = linalg.generic {indexing_maps = [#cin, #cw, #cout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%r1, %w2 : tensor<1x4x4x4xf32>, tensor<4x1x1x4xf32>) outs(%f2 : tensor<1x4x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x4x4x4xf32> loc("CONV_2D:2")
  %r3 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c2 : tensor<1x4x4x4xf32>) outs(%e : tensor<1x4x4x4xf32>) {
  ^bb0(%a: f32, %out: f32):
    %r = arith.maximumf %a, %zero : f32
    linalg.yield %r : f32
  } -> tensor<1x4x4x4xf32> loc("RELU:3")
  %a4 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%r3, %c2 : tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) outs(%e : tensor<1x4x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<1x4x4x4xf32> loc("ADD:4")
  %flat = tensor.collapse_shape %a4 [[0], [1, 2, 3]] : tensor<1x4x4x4xf32> into tensor<1x64xf32> loc("FULLY_CONNECTED:5")
  %row = tensor.expand_shape %flat [[0, 1], [2]] output_shape [1, 1, 64] : tensor<1x64xf32> into tensor<1x1x64xf32> loc("FULLY_CONNECTED:5")
  %e5 = tensor.empty() : tensor<1x1x3xf32>
  %f5 = linalg.generic {indexing_maps = [#scalar3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%zero : f32) outs(%e5 : tensor<1x1x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x1x3xf32> loc("FULLY_CONNECTED:5")
  %m5 = linalg.generic {indexing_maps = [#mm_in, #mm_w, #mm_out], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%row, %w5 : tensor<1x1x64xf32>, tensor<1x64x3xf32>) outs(%f5 : tensor<1x1x3xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x1x3xf32> loc("FULLY_CONNECTED:5")
  %y = tensor.collapse_shape %m5 [[0, 1], [2]] : tensor<1x1x3xf32> into tensor<1x3xf32> loc("FULLY_CONNECTED:5")
  return %y : tensor<1x3xf32>
}
