// RUN: fdt-opt-mlir %s --fdt-adopt-window-pads --fdt-tile-kernels --canonicalize | FileCheck %s

// A TFLite PAD read only by a max pool becomes part of the pool's kernel
// (takes its location), as the pad TOSA makes for a SAME pool is: tiling
// the kernel then pads each window inside the pool's loop. A PAD read
// elementwise stays a kernel of its own, padding the whole input first.

#in = affine_map<(d0, d1) -> (d0 * 2 + d1)>
#window = affine_map<(d0, d1) -> (d1)>
#out = affine_map<(d0, d1) -> (d0)>
#id = affine_map<(d0) -> (d0)>

// CHECK-LABEL: func.func @window
// CHECK:         scf.for
// CHECK:           tensor.pad %{{.*}} low[%{{.*}}] high[%{{.*}}]
// CHECK:           linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK:         tensor.pad %{{.*}} low[1] high[1]
// CHECK-NEXT:    ^bb0
// CHECK:         scf.for
// CHECK:           linalg.generic {{.*}} iterator_types = ["parallel"]
func.func @window(%x: tensor<8xf32>) -> (tensor<5xf32>, tensor<10xf32>) {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[1] high[1] {
  ^bb0(%i: index):
    tensor.yield %zero : f32
  } : tensor<8xf32> to tensor<10xf32> loc("PAD:0")
  %window = tensor.empty() : tensor<2xf32>
  %init = tensor.empty() : tensor<5xf32>
  %max = linalg.generic {indexing_maps = [#in, #window, #out], iterator_types = ["parallel", "reduction"]} ins(%p, %window : tensor<10xf32>, tensor<2xf32>) outs(%init : tensor<5xf32>) {
  ^bb0(%a: f32, %w: f32, %o: f32):
    %m = arith.maximumf %a, %o : f32
    linalg.yield %m : f32
  } -> tensor<5xf32> loc("MAX_POOL_2D:1")
  %q = tensor.pad %x low[1] high[1] {
  ^bb0(%i: index):
    tensor.yield %zero : f32
  } : tensor<8xf32> to tensor<10xf32> loc("PAD:2")
  %e = tensor.empty() : tensor<10xf32>
  %neg = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%q : tensor<10xf32>) outs(%e : tensor<10xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  } -> tensor<10xf32> loc("NEG:3")
  return %max, %neg : tensor<5xf32>, tensor<10xf32>
}
