// RUN: fdt-opt-mlir %s --split-input-file --fdt-apply-plan --canonicalize | FileCheck %s

// Fused feature-map tiling (FFMT): plans split the rows (h), the columns (w)
// or both (hw, an n x n grid) of NHWC feature maps. The path's last kernel
// gets an even split of its output, and going backwards every producer
// computes the tile its consumer reads: the receptive field of the
// consumer's tile, so neighbouring tiles overlap (halos) and recompute. The
// inputs are float32 linalg on tensors as tosa-to-linalg leaves them, each
// op located by its operator's name; MAX_POOL_2D is a fill with the lowest
// float and a windowed max.

#bias = affine_map<(n, h, w, c) -> (c)>
#id = affine_map<(n, h, w, c) -> (n, h, w, c)>
#scalar = affine_map<(n, h, w, c) -> ()>
#cin = affine_map<(n, h, w, c, kh, kw, ci) -> (n, h + kh, w + kw, ci)>
#cw = affine_map<(n, h, w, c, kh, kw, ci) -> (c, kh, kw, ci)>
#cout = affine_map<(n, h, w, c, kh, kw, ci) -> (n, h, w, c)>
#pin = affine_map<(n, h, w, c, kh, kw) -> (n, h * 2 + kh, w * 2 + kw, c)>
#pwin = affine_map<(n, h, w, c, kh, kw) -> (kh, kw)>
#pout = affine_map<(n, h, w, c, kh, kw) -> (n, h, w, c)>

// Rows, VALID 3x3 convs around a 2x2 / 2 max pool: 14 -> 12 -> 6 -> 4 rows.
// Each tile of 2 output rows needs 2 + 2 = 4 pool rows, which need 8 rows
// of the first conv, which need 8 + 2 = 10 input rows starting at 2 * t:
// every extent is static. The two tiles compute conv rows [0, 8) and
// [4, 12): 16 rows for 12, rows 4 to 7 twice.

// CHECK-DAG:   #[[$TWICE:.*]] = affine_map<(d0) -> (d0 * 2)>
// CHECK-LABEL: func.func @halos
// CHECK-SAME:    (%[[X:.*]]: tensor<1x14x10x1xf32>)
// CHECK:         %[[INIT:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x4x2x2xf32>)
// CHECK-NOT:     linalg.generic
// CHECK:         %[[R:.*]] = scf.for %[[T:.*]] = %c0 to %c4 step %c2 iter_args(%[[OUT:.*]] = %[[INIT]]) -> (tensor<1x4x2x2xf32>) {
// CHECK:           %[[ROW:.*]] = affine.apply #[[$TWICE]](%[[T]])
// CHECK:           %[[IN:.*]] = tensor.extract_slice %[[X]][0, %[[ROW]], 0, 0] [1, 10, 10, 1] [1, 1, 1, 1]
// CHECK:           %[[C0:.*]] = linalg.generic {{.*}} ins(%[[IN]], %{{.*}} : tensor<1x10x10x1xf32>, tensor<4x3x3x1xf32>) outs(%{{.*}} : tensor<1x8x8x4xf32>)
// CHECK:           %[[P1:.*]] = tensor.extract_slice %{{.*}}[0, %[[T]], 0, 0] [1, 4, 4, 4] [1, 1, 1, 1]
// CHECK:           %[[F1:.*]] = linalg.generic {{.*}} outs(%[[P1]] : tensor<1x4x4x4xf32>)
// CHECK:           %[[M1:.*]] = linalg.generic {{.*}} ins(%[[C0]], %{{.*}} : tensor<1x8x8x4xf32>, tensor<2x2xf32>) outs(%[[F1]] : tensor<1x4x4x4xf32>)
// CHECK:           %[[DST:.*]] = tensor.extract_slice %[[OUT]][0, %[[T]], 0, 0] [1, 2, 2, 2] [1, 1, 1, 1]
// CHECK:           %[[C2:.*]] = linalg.generic {{.*}} ins(%[[M1]], %{{.*}} : tensor<1x4x4x4xf32>, tensor<2x3x3x4xf32>) outs(%[[DST]] : tensor<1x2x2x2xf32>)
// CHECK:           %[[INS:.*]] = tensor.insert_slice %[[C2]] into %[[OUT]][0, %[[T]], 0, 0] [1, 2, 2, 2] [1, 1, 1, 1]
// CHECK-NEXT:      scf.yield %[[INS]] : tensor<1x4x2x2xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    return %[[R]] : tensor<1x4x2x2xf32>

"fdt.path"() {family = "ffmt", axis = "h", parts = array<i64: 2>, kernels = ["CONV_2D:0", "MAX_POOL_2D:1", "CONV_2D:2"], roles = "sss"} : () -> ()
func.func @halos(%x: tensor<1x14x10x1xf32>) -> tensor<1x4x2x2xf32> {
  %lowest = arith.constant -3.40282347E+38 : f32
  %w0 = arith.constant dense<0.5> : tensor<4x3x3x1xf32>
  %b0 = arith.constant dense<0.25> : tensor<4xf32>
  %w2 = arith.constant dense<0.125> : tensor<2x3x3x4xf32>
  %b2 = arith.constant dense<1.0> : tensor<2xf32>
  %e0 = tensor.empty() : tensor<1x12x8x4xf32>
  %f0 = linalg.generic {indexing_maps = [#bias, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b0 : tensor<4xf32>) outs(%e0 : tensor<1x12x8x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x12x8x4xf32> loc("CONV_2D:0")
  %c0 = linalg.generic {indexing_maps = [#cin, #cw, #cout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w0 : tensor<1x14x10x1xf32>, tensor<4x3x3x1xf32>) outs(%f0 : tensor<1x12x8x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x12x8x4xf32> loc("CONV_2D:0")
  %e1 = tensor.empty() : tensor<1x6x4x4xf32>
  %f1 = linalg.generic {indexing_maps = [#scalar, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%lowest : f32) outs(%e1 : tensor<1x6x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x6x4x4xf32> loc("MAX_POOL_2D:1")
  %win = tensor.empty() : tensor<2x2xf32>
  %m1 = linalg.generic {indexing_maps = [#pin, #pwin, #pout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%c0, %win : tensor<1x12x8x4xf32>, tensor<2x2xf32>) outs(%f1 : tensor<1x6x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.maximumf %acc, %a : f32
    linalg.yield %m : f32
  } -> tensor<1x6x4x4xf32> loc("MAX_POOL_2D:1")
  %e2 = tensor.empty() : tensor<1x4x2x2xf32>
  %f2 = linalg.generic {indexing_maps = [#bias, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b2 : tensor<2xf32>) outs(%e2 : tensor<1x4x2x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x4x2x2xf32> loc("CONV_2D:2")
  %c2 = linalg.generic {indexing_maps = [#cin, #cw, #cout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%m1, %w2 : tensor<1x6x4x4xf32>, tensor<2x3x3x4xf32>) outs(%f2 : tensor<1x4x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x4x2x2xf32> loc("CONV_2D:2")
  return %c2 : tensor<1x4x2x2xf32>
}

// -----

#bias = affine_map<(n, h, w, c) -> (c)>
#id = affine_map<(n, h, w, c) -> (n, h, w, c)>
#scalar = affine_map<(n, h, w, c) -> ()>
#cin = affine_map<(n, h, w, c, kh, kw, ci) -> (n, h + kh, w + kw, ci)>
#cw = affine_map<(n, h, w, c, kh, kw, ci) -> (c, kh, kw, ci)>
#cout = affine_map<(n, h, w, c, kh, kw, ci) -> (n, h, w, c)>
#pin = affine_map<(n, h, w, c, kh, kw) -> (n, h * 2 + kh, w * 2 + kw, c)>
#pwin = affine_map<(n, h, w, c, kh, kw) -> (kh, kw)>
#pout = affine_map<(n, h, w, c, kh, kw) -> (n, h, w, c)>

// Rows again, with SAME convs: their tensor.pad ops are fused into the
// loop and pad only the rows of a tile that fall outside the tensor. A tile
// of 2 rows [t, t + 2) of the last conv reads 4 rows [t - 1, t + 3) of its
// padded input: the first tile (t = 0) 1 padding row (low = max(1 - t, 0))
// and pool rows [0, 3), the second pool rows [1, 4) and 1 padding row at the
// bottom. So the pool computes 3 rows for a tile of 2, and the first conv 6
// of its 8 rows, from its own input padded the same way.

// CHECK-DAG:   #[[$LOW:.*]] = affine_map<(d0) -> (-d0 + 1, 0)>
// CHECK-DAG:   #[[$FROM:.*]] = affine_map<(d0) -> (0, d0 - 1)>
// CHECK-LABEL: func.func @same_rows
// CHECK-SAME:    (%[[X:.*]]: tensor<1x8x8x2xf32>)
// CHECK-NOT:     tensor.pad
// CHECK:         %[[R:.*]] = scf.for %[[T:.*]] = %c0 to %c4 step %c2 iter_args(%[[OUT:.*]] = %{{.*}}) -> (tensor<1x4x4x3xf32>) {
// CHECK:           %[[LO:.*]] = affine.max #[[$LOW]](%[[T]])
// CHECK:           affine.max #[[$FROM]](%[[T]])
// CHECK:           %[[IN:.*]] = tensor.extract_slice %[[X]][0, %{{.*}}, 0, 0] [1, %{{.*}}, 8, 2] [1, 1, 1, 1]
// CHECK:           tensor.pad %[[IN]] low[0, %{{.*}}, 1, 0] high[0, %{{.*}}, 1, 0]
// CHECK:           } : tensor<1x?x8x2xf32> to tensor<1x?x10x2xf32>
// CHECK:           linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x?x10x2xf32>, tensor<4x3x3x2xf32>) outs(%{{.*}} : tensor<1x?x8x4xf32>)
// CHECK:           %[[POOL:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x?x8x4xf32>, tensor<2x2xf32>) outs(%{{.*}} : tensor<1x?x4x4xf32>)
// CHECK:           tensor.pad %[[POOL]] low[0, %[[LO]], 1, 0] high[0, %{{.*}}, 1, 0]
// CHECK:           } : tensor<1x?x4x4xf32> to tensor<1x4x6x4xf32>
// CHECK:           %[[DST:.*]] = tensor.extract_slice %[[OUT]][0, %[[T]], 0, 0] [1, 2, 4, 3] [1, 1, 1, 1]
// CHECK:           %[[C2:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x4x6x4xf32>, tensor<3x3x3x4xf32>) outs(%[[DST]] : tensor<1x2x4x3xf32>)
// CHECK:           tensor.insert_slice %[[C2]] into %[[OUT]][0, %[[T]], 0, 0] [1, 2, 4, 3] [1, 1, 1, 1]
// CHECK-NOT:     tensor.pad
// CHECK:         return %[[R]]

"fdt.path"() {family = "ffmt", axis = "h", parts = array<i64: 2>, kernels = ["CONV_2D:0", "MAX_POOL_2D:1", "CONV_2D:2"], roles = "sss"} : () -> ()
func.func @same_rows(%x: tensor<1x8x8x2xf32>) -> tensor<1x4x4x3xf32> {
  %zero = arith.constant 0.0 : f32
  %lowest = arith.constant -3.40282347E+38 : f32
  %w0 = arith.constant dense<0.5> : tensor<4x3x3x2xf32>
  %b0 = arith.constant dense<0.25> : tensor<4xf32>
  %w2 = arith.constant dense<0.125> : tensor<3x3x3x4xf32>
  %b2 = arith.constant dense<1.0> : tensor<3xf32>
  %p0 = tensor.pad %x low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x8x8x2xf32> to tensor<1x10x10x2xf32> loc("CONV_2D:0")
  %e0 = tensor.empty() : tensor<1x8x8x4xf32>
  %f0 = linalg.generic {indexing_maps = [#bias, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b0 : tensor<4xf32>) outs(%e0 : tensor<1x8x8x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x8x8x4xf32> loc("CONV_2D:0")
  %c0 = linalg.generic {indexing_maps = [#cin, #cw, #cout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%p0, %w0 : tensor<1x10x10x2xf32>, tensor<4x3x3x2xf32>) outs(%f0 : tensor<1x8x8x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x8x8x4xf32> loc("CONV_2D:0")
  %r0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c0 : tensor<1x8x8x4xf32>) outs(%e0 : tensor<1x8x8x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maximumf %in, %zero : f32
    linalg.yield %r : f32
  } -> tensor<1x8x8x4xf32> loc("CONV_2D:0")
  %e1 = tensor.empty() : tensor<1x4x4x4xf32>
  %f1 = linalg.generic {indexing_maps = [#scalar, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%lowest : f32) outs(%e1 : tensor<1x4x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x4x4x4xf32> loc("MAX_POOL_2D:1")
  %win = tensor.empty() : tensor<2x2xf32>
  %m1 = linalg.generic {indexing_maps = [#pin, #pwin, #pout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%r0, %win : tensor<1x8x8x4xf32>, tensor<2x2xf32>) outs(%f1 : tensor<1x4x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.maximumf %acc, %a : f32
    linalg.yield %m : f32
  } -> tensor<1x4x4x4xf32> loc("MAX_POOL_2D:1")
  %p2 = tensor.pad %m1 low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x4x4x4xf32> to tensor<1x6x6x4xf32> loc("CONV_2D:2")
  %e2 = tensor.empty() : tensor<1x4x4x3xf32>
  %f2 = linalg.generic {indexing_maps = [#bias, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b2 : tensor<3xf32>) outs(%e2 : tensor<1x4x4x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x4x4x3xf32> loc("CONV_2D:2")
  %c2 = linalg.generic {indexing_maps = [#cin, #cw, #cout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%p2, %w2 : tensor<1x6x6x4xf32>, tensor<3x3x3x4xf32>) outs(%f2 : tensor<1x4x4x3xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x4x4x3xf32> loc("CONV_2D:2")
  return %c2 : tensor<1x4x4x3xf32>
}

// -----

#bias = affine_map<(n, h, w, c) -> (c)>
#id = affine_map<(n, h, w, c) -> (n, h, w, c)>
#scalar = affine_map<(n, h, w, c) -> ()>
#cin = affine_map<(n, h, w, c, kh, kw, ci) -> (n, h + kh, w + kw, ci)>
#cw = affine_map<(n, h, w, c, kh, kw, ci) -> (c, kh, kw, ci)>
#cout = affine_map<(n, h, w, c, kh, kw, ci) -> (n, h, w, c)>
#pin = affine_map<(n, h, w, c, kh, kw) -> (n, h * 2 + kh, w * 2 + kw, c)>
#pwin = affine_map<(n, h, w, c, kh, kw) -> (kh, kw)>
#pout = affine_map<(n, h, w, c, kh, kw) -> (n, h, w, c)>

// Columns: the same split on axis 2. The pool's tile of 2 columns reads 4
// conv columns, which read 6 columns of the padded input: rows keep their
// static padding (1 and 1), columns are padded on border tiles only.

// CHECK-LABEL: func.func @columns
// CHECK-SAME:    (%[[X:.*]]: tensor<1x8x8x2xf32>)
// CHECK:         %[[R:.*]] = scf.for %[[T:.*]] = %c0 to %c4 step %c2 iter_args(%[[OUT:.*]] = %{{.*}}) -> (tensor<1x4x4x4xf32>) {
// CHECK:           %[[IN:.*]] = tensor.extract_slice %[[X]][0, 0, %{{.*}}, 0] [1, 8, %{{.*}}, 2] [1, 1, 1, 1]
// CHECK:           tensor.pad %[[IN]] low[0, 1, %{{.*}}, 0] high[0, 1, %{{.*}}, 0]
// CHECK:           } : tensor<1x8x?x2xf32> to tensor<1x10x6x2xf32>
// CHECK:           %[[C0:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x10x6x2xf32>, tensor<4x3x3x2xf32>) outs(%{{.*}} : tensor<1x8x4x4xf32>)
// CHECK:           %[[DST:.*]] = tensor.extract_slice %[[OUT]][0, 0, %[[T]], 0] [1, 4, 2, 4] [1, 1, 1, 1]
// CHECK:           %[[M:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x8x4x4xf32>, tensor<2x2xf32>) outs(%[[DST]] : tensor<1x4x2x4xf32>)
// CHECK:           %[[INS:.*]] = tensor.insert_slice %[[M]] into %[[OUT]][0, 0, %[[T]], 0] [1, 4, 2, 4] [1, 1, 1, 1]
// CHECK-NEXT:      scf.yield %[[INS]]
// CHECK-NEXT:    }
// CHECK-NEXT:    return %[[R]]

"fdt.path"() {family = "ffmt", axis = "w", parts = array<i64: 2>, kernels = ["CONV_2D:0", "MAX_POOL_2D:1"], roles = "ss"} : () -> ()
func.func @columns(%x: tensor<1x8x8x2xf32>) -> tensor<1x4x4x4xf32> {
  %zero = arith.constant 0.0 : f32
  %lowest = arith.constant -3.40282347E+38 : f32
  %w0 = arith.constant dense<0.5> : tensor<4x3x3x2xf32>
  %b0 = arith.constant dense<0.25> : tensor<4xf32>
  %p0 = tensor.pad %x low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x8x8x2xf32> to tensor<1x10x10x2xf32> loc("CONV_2D:0")
  %e0 = tensor.empty() : tensor<1x8x8x4xf32>
  %f0 = linalg.generic {indexing_maps = [#bias, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b0 : tensor<4xf32>) outs(%e0 : tensor<1x8x8x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x8x8x4xf32> loc("CONV_2D:0")
  %c0 = linalg.generic {indexing_maps = [#cin, #cw, #cout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%p0, %w0 : tensor<1x10x10x2xf32>, tensor<4x3x3x2xf32>) outs(%f0 : tensor<1x8x8x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x8x8x4xf32> loc("CONV_2D:0")
  %r0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c0 : tensor<1x8x8x4xf32>) outs(%e0 : tensor<1x8x8x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maximumf %in, %zero : f32
    linalg.yield %r : f32
  } -> tensor<1x8x8x4xf32> loc("CONV_2D:0")
  %e1 = tensor.empty() : tensor<1x4x4x4xf32>
  %f1 = linalg.generic {indexing_maps = [#scalar, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%lowest : f32) outs(%e1 : tensor<1x4x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x4x4x4xf32> loc("MAX_POOL_2D:1")
  %win = tensor.empty() : tensor<2x2xf32>
  %m1 = linalg.generic {indexing_maps = [#pin, #pwin, #pout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%r0, %win : tensor<1x8x8x4xf32>, tensor<2x2xf32>) outs(%f1 : tensor<1x4x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.maximumf %acc, %a : f32
    linalg.yield %m : f32
  } -> tensor<1x4x4x4xf32> loc("MAX_POOL_2D:1")
  return %m1 : tensor<1x4x4x4xf32>
}

// -----

#bias = affine_map<(n, h, w, c) -> (c)>
#id = affine_map<(n, h, w, c) -> (n, h, w, c)>
#scalar = affine_map<(n, h, w, c) -> ()>
#cin = affine_map<(n, h, w, c, kh, kw, ci) -> (n, h + kh, w + kw, ci)>
#cw = affine_map<(n, h, w, c, kh, kw, ci) -> (c, kh, kw, ci)>
#cout = affine_map<(n, h, w, c, kh, kw, ci) -> (n, h, w, c)>
#pin = affine_map<(n, h, w, c, kh, kw) -> (n, h * 2 + kh, w * 2 + kw, c)>
#pwin = affine_map<(n, h, w, c, kh, kw) -> (kh, kw)>
#pout = affine_map<(n, h, w, c, kh, kw) -> (n, h, w, c)>

// A 2 x 2 grid: two nested loops, rows outside, columns inside, carrying
// the output through both. Each of the 4 tiles (2 x 2 pool outputs) reads
// 6 x 6 of the padded input, padded on the sides the tile touches.

// CHECK-LABEL: func.func @grid
// CHECK-SAME:    (%[[X:.*]]: tensor<1x8x8x2xf32>)
// CHECK:         %[[R:.*]] = scf.for %[[I:.*]] = %c0 to %c4 step %c2 iter_args(%[[OUT:.*]] = %{{.*}}) -> (tensor<1x4x4x4xf32>) {
// CHECK-NEXT:      %[[RI:.*]] = scf.for %[[J:.*]] = %c0 to %c4 step %c2 iter_args(%[[OUT2:.*]] = %[[OUT]]) -> (tensor<1x4x4x4xf32>) {
// CHECK:             %[[IN:.*]] = tensor.extract_slice %[[X]][0, %{{.*}}, %{{.*}}, 0] [1, %{{.*}}, %{{.*}}, 2] [1, 1, 1, 1]
// CHECK:             tensor.pad %[[IN]] low[0, %{{.*}}, %{{.*}}, 0] high[0, %{{.*}}, %{{.*}}, 0]
// CHECK:             } : tensor<1x?x?x2xf32> to tensor<1x6x6x2xf32>
// CHECK:             linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x6x6x2xf32>, tensor<4x3x3x2xf32>) outs(%{{.*}} : tensor<1x4x4x4xf32>)
// CHECK:             %[[DST:.*]] = tensor.extract_slice %[[OUT2]][0, %[[I]], %[[J]], 0] [1, 2, 2, 4] [1, 1, 1, 1]
// CHECK:             %[[M:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x4x4x4xf32>, tensor<2x2xf32>) outs(%[[DST]] : tensor<1x2x2x4xf32>)
// CHECK:             %[[INS:.*]] = tensor.insert_slice %[[M]] into %[[OUT2]][0, %[[I]], %[[J]], 0] [1, 2, 2, 4] [1, 1, 1, 1]
// CHECK-NEXT:        scf.yield %[[INS]]
// CHECK-NEXT:      }
// CHECK-NEXT:      scf.yield %[[RI]]
// CHECK-NEXT:    }
// CHECK-NEXT:    return %[[R]]

"fdt.path"() {family = "ffmt", axis = "hw", parts = array<i64: 2, 2>, kernels = ["CONV_2D:0", "MAX_POOL_2D:1"], roles = "ss"} : () -> ()
func.func @grid(%x: tensor<1x8x8x2xf32>) -> tensor<1x4x4x4xf32> {
  %zero = arith.constant 0.0 : f32
  %lowest = arith.constant -3.40282347E+38 : f32
  %w0 = arith.constant dense<0.5> : tensor<4x3x3x2xf32>
  %b0 = arith.constant dense<0.25> : tensor<4xf32>
  %p0 = tensor.pad %x low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x8x8x2xf32> to tensor<1x10x10x2xf32> loc("CONV_2D:0")
  %e0 = tensor.empty() : tensor<1x8x8x4xf32>
  %f0 = linalg.generic {indexing_maps = [#bias, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b0 : tensor<4xf32>) outs(%e0 : tensor<1x8x8x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x8x8x4xf32> loc("CONV_2D:0")
  %c0 = linalg.generic {indexing_maps = [#cin, #cw, #cout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%p0, %w0 : tensor<1x10x10x2xf32>, tensor<4x3x3x2xf32>) outs(%f0 : tensor<1x8x8x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x8x8x4xf32> loc("CONV_2D:0")
  %r0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c0 : tensor<1x8x8x4xf32>) outs(%e0 : tensor<1x8x8x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maximumf %in, %zero : f32
    linalg.yield %r : f32
  } -> tensor<1x8x8x4xf32> loc("CONV_2D:0")
  %e1 = tensor.empty() : tensor<1x4x4x4xf32>
  %f1 = linalg.generic {indexing_maps = [#scalar, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%lowest : f32) outs(%e1 : tensor<1x4x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x4x4x4xf32> loc("MAX_POOL_2D:1")
  %win = tensor.empty() : tensor<2x2xf32>
  %m1 = linalg.generic {indexing_maps = [#pin, #pwin, #pout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%r0, %win : tensor<1x8x8x4xf32>, tensor<2x2xf32>) outs(%f1 : tensor<1x4x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.maximumf %acc, %a : f32
    linalg.yield %m : f32
  } -> tensor<1x4x4x4xf32> loc("MAX_POOL_2D:1")
  return %m1 : tensor<1x4x4x4xf32>
}
