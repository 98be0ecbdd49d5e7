// RUN: fdt-opt-mlir %s --fdt-nchw-depthwise --canonicalize | FileCheck %s

// torch-mlir's lowering of an integer depthwise conv of an NCHW model
// (ONNX ConvInteger, group = channels): the padded input and the weights
// transposed to NHWC, the _q conv, its result transposed back. It becomes
// one NCHW linalg.generic that reads the padded input and the weights where
// they are: no transpose is left, so no whole-tensor copy.

// CHECK-DAG:   #[[X:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d4, d3 + d5)>
// CHECK-DAG:   #[[W:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d1, d4, d5)>
// CHECK-DAG:   #[[ZP:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> ()>
// CHECK-DAG:   #[[OUT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @depthwise
// CHECK-NOT:     linalg.transpose
// CHECK:         %[[P:.*]] = tensor.pad
// CHECK:         %[[F:.*]] = linalg.fill ins(%c0_i32 : i32) outs(%{{.*}} : tensor<1x2x3x4xi32>)
// CHECK:         %[[Y:.*]] = linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[ZP]], #[[ZP]], #[[OUT]]],
// CHECK-SAME:      iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
// CHECK-SAME:      ins(%[[P]], %{{.*}}, %c-3_i32, %c0_i32 : tensor<1x2x7x6xi8>, tensor<2x3x3xi8>, i32, i32)
// CHECK-SAME:      outs(%[[F]] : tensor<1x2x3x4xi32>)
// CHECK:           %[[XE:.*]] = arith.extsi %{{.*}} : i8 to i32
// CHECK:           %[[XC:.*]] = arith.subi %[[XE]], %{{.*}} : i32
// CHECK:           %[[WE:.*]] = arith.extsi %{{.*}} : i8 to i32
// CHECK:           %[[WC:.*]] = arith.subi %[[WE]], %{{.*}} : i32
// CHECK:           %[[M:.*]] = arith.muli %[[XC]], %[[WC]] : i32
// CHECK:           %[[S:.*]] = arith.addi %{{.*}}, %[[M]] : i32
// CHECK:           linalg.yield %[[S]] : i32
// CHECK-NOT:     linalg.transpose
// CHECK:         return %[[Y]]
func.func @depthwise(%arg0: tensor<1x2x5x4xi8>) -> tensor<1x2x3x4xi32> {
  %c0_i32 = arith.constant 0 : i32
  %c-3_i32 = arith.constant -3 : i32
  %c-3_i8 = arith.constant -3 : i8
  %cst = arith.constant dense<[[[-9, -8, -7], [-6, -5, -4], [-3, -2, -1]], [[0, 1, 2], [3, 4, 5], [6, 7, 8]]]> : tensor<2x3x3xi8>
  %padded = tensor.pad %arg0 low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%arg1: index, %arg2: index, %arg3: index, %arg4: index):
    tensor.yield %c-3_i8 : i8
  } : tensor<1x2x5x4xi8> to tensor<1x2x7x6xi8>
  %0 = tensor.empty() : tensor<1x7x6x2xi8>
  %transposed = linalg.transpose ins(%padded : tensor<1x2x7x6xi8>) outs(%0 : tensor<1x7x6x2xi8>) permutation = [0, 2, 3, 1]
  %1 = tensor.empty() : tensor<3x3x2xi8>
  %transposed_0 = linalg.transpose ins(%cst : tensor<2x3x3xi8>) outs(%1 : tensor<3x3x2xi8>) permutation = [1, 2, 0]
  %2 = tensor.empty() : tensor<1x3x4x2xi32>
  %3 = linalg.fill ins(%c0_i32 : i32) outs(%2 : tensor<1x3x4x2xi32>) -> tensor<1x3x4x2xi32>
  %4 = linalg.depthwise_conv_2d_nhwc_hwc_q {dilations = dense<1> : vector<2xi64>, strides = dense<[2, 1]> : vector<2xi64>} ins(%transposed, %transposed_0, %c-3_i32, %c0_i32 : tensor<1x7x6x2xi8>, tensor<3x3x2xi8>, i32, i32) outs(%3 : tensor<1x3x4x2xi32>) -> tensor<1x3x4x2xi32>
  %5 = tensor.empty() : tensor<1x2x3x4xi32>
  %transposed_1 = linalg.transpose ins(%4 : tensor<1x3x4x2xi32>) outs(%5 : tensor<1x2x3x4xi32>) permutation = [0, 3, 1, 2]
  return %transposed_1 : tensor<1x2x3x4xi32>
}

// A depthwise conv whose result is not transposed back (an NHWC model's)
// is left as it is.

// CHECK-LABEL: func.func @nhwc
// CHECK:         linalg.depthwise_conv_2d_nhwc_hwc_q
func.func @nhwc(%x: tensor<1x7x6x2xi8>, %w: tensor<3x3x2xi8>) -> tensor<1x5x4x2xi32> {
  %c0_i32 = arith.constant 0 : i32
  %0 = tensor.empty() : tensor<1x5x4x2xi32>
  %1 = linalg.fill ins(%c0_i32 : i32) outs(%0 : tensor<1x5x4x2xi32>) -> tensor<1x5x4x2xi32>
  %2 = linalg.depthwise_conv_2d_nhwc_hwc_q {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%x, %w, %c0_i32, %c0_i32 : tensor<1x7x6x2xi8>, tensor<3x3x2xi8>, i32, i32) outs(%1 : tensor<1x5x4x2xi32>) -> tensor<1x5x4x2xi32>
  return %2 : tensor<1x5x4x2xi32>
}
