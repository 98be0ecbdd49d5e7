// RUN: fdt-opt-mlir %s --split-input-file --fdt-fold-depth-multiplier --canonicalize | FileCheck %s

// tosa-to-linalg's 5-D depthwise form with multiplier 1 becomes the 4-D
// NHWC depthwise op: no collapse_shape is left between it and its consumer.

// CHECK-LABEL: func.func @multiplier_one
// CHECK-NOT:     tensor.collapse_shape
// CHECK:         %[[FILL:.*]] = linalg.fill ins(%{{.*}} : i32) outs(%{{.*}} : tensor<1x4x4x3xi32>)
// CHECK:         %[[DW:.*]] = linalg.depthwise_conv_2d_nhwc_hwc_q {{.*}} ins(%arg0, %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x6x6x3xi8>, tensor<3x3x3xi8>, i32, i32) outs(%[[FILL]] : tensor<1x4x4x3xi32>)
// CHECK:         return %[[DW]]
func.func @multiplier_one(%x: tensor<1x6x6x3xi8>) -> tensor<1x4x4x3xi32> {
  %w = arith.constant dense<2> : tensor<3x3x3x1xi8>
  %zp = arith.constant -1 : i32
  %c0 = arith.constant 0 : i32
  %e = tensor.empty() : tensor<1x4x4x3x1xi32>
  %f = linalg.fill ins(%c0 : i32) outs(%e : tensor<1x4x4x3x1xi32>) -> tensor<1x4x4x3x1xi32>
  %d = linalg.depthwise_conv_2d_nhwc_hwcm_q {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w, %zp, %c0 : tensor<1x6x6x3xi8>, tensor<3x3x3x1xi8>, i32, i32) outs(%f : tensor<1x4x4x3x1xi32>) -> tensor<1x4x4x3x1xi32>
  %r = tensor.collapse_shape %d [[0], [1], [2], [3, 4]] : tensor<1x4x4x3x1xi32> into tensor<1x4x4x3xi32>
  return %r : tensor<1x4x4x3xi32>
}

// -----

// One input channel and multiplier 2: a convolution with two filters, the
// weights transposed from [KH, KW, 1, M] to [M, KH, KW, 1].

// CHECK-LABEL: func.func @one_channel
// CHECK:         %[[W:.*]] = arith.constant dense<{{\[}}{{\[}}{{\[}}[1.000000e+00], [3.000000e+00]]], {{\[}}{{\[}}[2.000000e+00], [4.000000e+00]]]]> : tensor<2x1x2x1xf32>
// CHECK:         linalg.conv_2d_nhwc_fhwc {{.*}} ins(%arg0, %[[W]] : tensor<1x5x5x1xf32>, tensor<2x1x2x1xf32>) outs(%{{.*}} : tensor<1x5x4x2xf32>)
func.func @one_channel(%x: tensor<1x5x5x1xf32>) -> tensor<1x5x4x2xf32> {
  %w = arith.constant dense<[[[[1.0, 2.0]], [[3.0, 4.0]]]]> : tensor<1x2x1x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x5x4x1x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<1x5x4x1x2xf32>) -> tensor<1x5x4x1x2xf32>
  %d = linalg.depthwise_conv_2d_nhwc_hwcm {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x5x5x1xf32>, tensor<1x2x1x2xf32>) outs(%f : tensor<1x5x4x1x2xf32>) -> tensor<1x5x4x1x2xf32>
  %r = tensor.collapse_shape %d [[0], [1], [2], [3, 4]] : tensor<1x5x4x1x2xf32> into tensor<1x5x4x2xf32>
  return %r : tensor<1x5x4x2xf32>
}

// -----

// Several channels and a multiplier above 1 have no 4-D form: unchanged.

// CHECK-LABEL: func.func @general
// CHECK:         linalg.depthwise_conv_2d_nhwc_hwcm
// CHECK:         tensor.collapse_shape
func.func @general(%x: tensor<1x5x5x2xf32>, %w: tensor<1x1x2x2xf32>) -> tensor<1x5x5x4xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x5x5x2x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<1x5x5x2x2xf32>) -> tensor<1x5x5x2x2xf32>
  %d = linalg.depthwise_conv_2d_nhwc_hwcm {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x5x5x2xf32>, tensor<1x1x2x2xf32>) outs(%f : tensor<1x5x5x2x2xf32>) -> tensor<1x5x5x2x2xf32>
  %r = tensor.collapse_shape %d [[0], [1], [2], [3, 4]] : tensor<1x5x5x2x2xf32> into tensor<1x5x5x4xf32>
  return %r : tensor<1x5x5x4xf32>
}
