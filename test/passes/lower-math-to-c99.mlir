// RUN: fdt-opt-mlir %s --fdt-lower-math-to-c99 | FileCheck %s

// ONNX's QuantizeLinear rounds half to even; C99's rint does the same in the
// default rounding mode: rintf for f32, rint for f64. A BatchNormalization's
// square root is C99's sqrtf (sqrt for f64).

// CHECK-LABEL: func.func @round
// CHECK-SAME:    (%[[X:.*]]: f32, %[[Y:.*]]: f64)
// CHECK-NOT:     math.roundeven
// CHECK:         %[[A:.*]] = emitc.call_opaque "rintf"(%[[X]]) : (f32) -> f32
// CHECK:         %[[B:.*]] = emitc.call_opaque "rint"(%[[Y]]) : (f64) -> f64
// CHECK:         return %[[A]], %[[B]]
func.func @round(%x: f32, %y: f64) -> (f32, f64) {
  %a = math.roundeven %x : f32
  %b = math.roundeven %y : f64
  return %a, %b : f32, f64
}

// CHECK-LABEL: func.func @root
// CHECK-SAME:    (%[[X:.*]]: f32, %[[Y:.*]]: f64)
// CHECK-NOT:     math.sqrt
// CHECK:         %[[A:.*]] = emitc.call_opaque "sqrtf"(%[[X]]) : (f32) -> f32
// CHECK:         %[[B:.*]] = emitc.call_opaque "sqrt"(%[[Y]]) : (f64) -> f64
// CHECK:         return %[[A]], %[[B]]
func.func @root(%x: f32, %y: f64) -> (f32, f64) {
  %a = math.sqrt %x : f32
  %b = math.sqrt %y : f64
  return %a, %b : f32, f64
}

// TFLite's LOG calls logf.

// CHECK-LABEL: func.func @log
// CHECK-SAME:    (%[[X:.*]]: f32)
// CHECK:         %[[A:.*]] = emitc.call_opaque "logf"(%[[X]]) : (f32) -> f32
// CHECK:         return %[[A]]
func.func @log(%x: f32) -> f32 {
  %a = math.log %x : f32
  return %a : f32
}

// TFLite's ELU calls expm1f for negative inputs.

// CHECK-LABEL: func.func @expm1
// CHECK-SAME:    (%[[X:.*]]: f32)
// CHECK:         %[[A:.*]] = emitc.call_opaque "expm1f"(%[[X]]) : (f32) -> f32
// CHECK:         return %[[A]]
func.func @expm1(%x: f32) -> f32 {
  %a = math.expm1 %x : f32
  return %a : f32
}
