// RUN: fdt-opt-mlir %s --split-input-file --fdt-merge-read-twice | FileCheck %s

// HardSwish fused into a conv, as the ONNX importer lowers it: the conv's
// result x is read by x + 3 -> relu6 -> / 6 and by the final multiply. The
// four elementwise ops become one generic reading x once (and 6 once), so
// tile-and-fuse moves the conv into a loop once. The conv itself and the
// ops of other kernels stay as they are.

#id = affine_map<(d0) -> (d0)>
#scalar = affine_map<(d0) -> ()>
#in3 = affine_map<(d0, d1) -> (d0 + d1)>
#k3 = affine_map<(d0, d1) -> (d1)>
#o3 = affine_map<(d0, d1) -> (d0)>

// CHECK-LABEL: func.func @hard_swish
// CHECK:         %[[X:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK:         %[[Y:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel"]} ins(%[[X]], %{{.*}} : tensor<8xf32>, tensor<f32>)
// CHECK:           arith.addf
// CHECK:           arith.maximumf
// CHECK:           arith.minimumf
// CHECK:           arith.divf
// CHECK:           %[[P:.*]] = arith.mulf
// CHECK:           linalg.yield %[[P]]
// CHECK:         %[[Z:.*]] = linalg.generic {{.*}} ins(%[[Y]] : tensor<8xf32>)
// CHECK:         return %[[Z]]
func.func @hard_swish(%arg0: tensor<10xf32>) -> tensor<8xf32> {
  %k = arith.constant dense<1.0> : tensor<3xf32>
  %zero = arith.constant 0.0 : f32
  %three = arith.constant 3.0 : f32
  %six = arith.constant dense<6.0> : tensor<f32>
  %e = tensor.empty() : tensor<8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8xf32>) -> tensor<8xf32> loc("Conv:0")
  %x = linalg.generic {indexing_maps = [#in3, #k3, #o3], iterator_types = ["parallel", "reduction"]} ins(%arg0, %k : tensor<10xf32>, tensor<3xf32>) outs(%f : tensor<8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<8xf32> loc("Conv:0")
  %shifted = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%x : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.addf %a, %three : f32
    linalg.yield %s : f32
  } -> tensor<8xf32> loc("Conv:0")
  %low = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%shifted : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %zero : f32
    linalg.yield %m : f32
  } -> tensor<8xf32> loc("Conv:0")
  %high = linalg.generic {indexing_maps = [#id, #scalar, #id], iterator_types = ["parallel"]} ins(%low, %six : tensor<8xf32>, tensor<f32>) outs(%e : tensor<8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.minimumf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<8xf32> loc("Conv:0")
  %gate = linalg.generic {indexing_maps = [#id, #scalar, #id], iterator_types = ["parallel"]} ins(%high, %six : tensor<8xf32>, tensor<f32>) outs(%e : tensor<8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.divf %a, %b : f32
    linalg.yield %d : f32
  } -> tensor<8xf32> loc("Conv:0")
  %y = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]} ins(%gate, %x : tensor<8xf32>, tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<8xf32> loc("Conv:0")
  %z = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%y : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  } -> tensor<8xf32> loc("Neg:1")
  return %z : tensor<8xf32>
}

// -----

// A kernel whose values each have one reader is left alone: elementwise
// fusion on whole tensors happens only inside tile loops (pipeline.KERNELS).

// CHECK-LABEL: func.func @chain
// CHECK-COUNT-2: linalg.generic
// CHECK-NOT:     linalg.generic
#id1 = affine_map<(d0) -> (d0)>
func.func @chain(%arg0: tensor<8xf32>) -> tensor<8xf32> {
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<8xf32>
  %a = linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]} ins(%arg0 : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %s = arith.addf %x, %one : f32
    linalg.yield %s : f32
  } -> tensor<8xf32> loc("Add:0")
  %b = linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]} ins(%a : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %s = arith.mulf %x, %x : f32
    linalg.yield %s : f32
  } -> tensor<8xf32> loc("Add:0")
  return %b : tensor<8xf32>
}
