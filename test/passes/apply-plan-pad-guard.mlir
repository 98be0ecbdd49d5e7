// RUN: fdt-opt-mlir %s --fdt-apply-plan --canonicalize | FileCheck %s

// fdt-apply-plan hoists a tiled pad's producers out of the scf.if that
// guards all-padding tiles, also when the else branch yields the pad through
// a tensor.cast (dynamic rows to the consumer tile's static rows). Left
// under the guard, fdt-tile-kernels would not tile them: the first conv's
// int32 tile would be kept whole (for the 'ffmt hw 2x2' plan of
// test/driver/plan.test, an arena of 2512 B instead of 912 B).

// Two SAME 3x3 convs split in 2 row tiles. The second conv's pad, fused into
// the loop, is the only op under the guard: the first conv's tile, which
// the pad reads, is computed before the scf.if.

#id = affine_map<(n, h, w, c) -> (n, h, w, c)>
#scalar = affine_map<(n, h, w, c) -> ()>
#cin = affine_map<(n, h, w, c, kh, kw, ci) -> (n, h + kh, w + kw, ci)>
#cw = affine_map<(n, h, w, c, kh, kw, ci) -> (c, kh, kw, ci)>
#cout = affine_map<(n, h, w, c, kh, kw, ci) -> (n, h, w, c)>

// CHECK-LABEL: func.func @guard
// CHECK:         scf.for
// CHECK:           %[[C0:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x?x10x1xf32>, tensor<1x3x3x1xf32>)
// CHECK:           scf.if
// CHECK:           } else {
// CHECK-NEXT:        tensor.pad %[[C0]]
"fdt.path"() {family = "ffmt", axis = "h", parts = array<i64: 2>, kernels = ["CONV_2D:0", "CONV_2D:1"], roles = "ss"} : () -> ()
func.func @guard(%x: tensor<1x8x8x1xf32>) -> tensor<1x8x8x1xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<0.5> : tensor<1x3x3x1xf32>
  %p0 = tensor.pad %x low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x8x8x1xf32> to tensor<1x10x10x1xf32> loc("CONV_2D:0")
  %e0 = tensor.empty() : tensor<1x8x8x1xf32>
  %f0 = linalg.generic {indexing_maps = [#scalar, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%zero : f32) outs(%e0 : tensor<1x8x8x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x8x8x1xf32> loc("CONV_2D:0")
  %c0 = linalg.generic {indexing_maps = [#cin, #cw, #cout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%p0, %w : tensor<1x10x10x1xf32>, tensor<1x3x3x1xf32>) outs(%f0 : tensor<1x8x8x1xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x8x8x1xf32> loc("CONV_2D:0")
  %p1 = tensor.pad %c0 low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x8x8x1xf32> to tensor<1x10x10x1xf32> loc("CONV_2D:1")
  %e1 = tensor.empty() : tensor<1x8x8x1xf32>
  %f1 = linalg.generic {indexing_maps = [#scalar, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%zero : f32) outs(%e1 : tensor<1x8x8x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x8x8x1xf32> loc("CONV_2D:1")
  %c1 = linalg.generic {indexing_maps = [#cin, #cw, #cout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%p1, %w : tensor<1x10x10x1xf32>, tensor<1x3x3x1xf32>) outs(%f1 : tensor<1x8x8x1xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x8x8x1xf32> loc("CONV_2D:1")
  return %c1 : tensor<1x8x8x1xf32>
}
