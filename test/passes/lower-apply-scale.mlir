// RUN: fdt-opt-mlir %s --fdt-lower-apply-scale | FileCheck %s

// An int32 requantization becomes a call of fdt_apply_scale (the shift
// widened to int32, the rounding mode as a flag); a 48-bit one (int16
// models) stays for tosa-to-arith to expand.

// CHECK:       emitc.verbatim "/* fdt_apply_scale:
// CHECK-LABEL: func.func @requantize
// CHECK-SAME:    (%[[V:.*]]: i32, %[[M:.*]]: i32, %[[S:.*]]: i8, %[[W:.*]]: i48)
// CHECK:         %[[S32:.*]] = arith.extsi %[[S]] : i8 to i32
// CHECK:         %[[ONE:.*]] = arith.constant 1 : i32
// CHECK:         %[[D:.*]] = emitc.call_opaque "fdt_apply_scale"(%[[V]], %[[M]], %[[S32]], %[[ONE]]) : (i32, i32, i32, i32) -> i32
// CHECK:         %[[ZERO:.*]] = arith.constant 0 : i32
// CHECK:         %[[R:.*]] = emitc.call_opaque "fdt_apply_scale"(%[[V]], %[[M]], %{{.*}}, %[[ZERO]])
// CHECK:         %[[WIDE:.*]] = tosa.apply_scale %[[W]], %[[M]], %[[S]] {rounding_mode = DOUBLE_ROUND} : (i48, i32, i8) -> i32
// CHECK:         return %[[D]], %[[R]], %[[WIDE]]
func.func @requantize(%v: i32, %m: i32, %s: i8, %w: i48) -> (i32, i32, i32) {
  %d = tosa.apply_scale %v, %m, %s {rounding_mode = DOUBLE_ROUND} : (i32, i32, i8) -> i32
  %r = tosa.apply_scale %v, %m, %s {rounding_mode = SINGLE_ROUND} : (i32, i32, i8) -> i32
  %x = tosa.apply_scale %w, %m, %s {rounding_mode = DOUBLE_ROUND} : (i48, i32, i8) -> i32
  return %d, %r, %x : i32, i32, i32
}
