// RUN: fdt-opt-mlir %s --fdt-shadow-arena | FileCheck %s

// A 0-d buffer: its one element is element 0. An op without a named
// location is named by its file location.

// CHECK:       s_shadow_sites[] = { \22the end of the invoke (model outputs)\22, \22loc('-':{{[0-9]+}}:10): load\22

// CHECK-LABEL: func.func @s()
// CHECK:         memref.store %{{.*}}, %{{.*}}[] : memref<f32>
// CHECK-NEXT:    emitc.call_opaque "s_shadow_access"() {args = [1 : i32, 1 : i32, 0 : i32, 0 : i32, 1 : i32, 0 : i32, 1 : i32, 1 : i32, 3 : i32]}
// CHECK-NEXT:    emitc.call_opaque "s_shadow_access"() {args = [0 : i32, 1 : i32, 0 : i32, 0 : i32, 1 : i32, 0 : i32, 1 : i32, 1 : i32, 2 : i32]}
// CHECK-NEXT:    memref.load
module {
  func.func @s() {
    "fdt.arena"() {alignment = 16 : i64, lower_bound = 32 : i64, method = "exact", size = 32 : i64} : () -> ()
    %in = "fdt.buffer"() {first = 0 : i64, last = 1 : i64, name = "input0", offset = 0 : i64} : () -> memref<f32>
    %t = "fdt.buffer"() {first = 1 : i64, last = 2 : i64, name = "buf0", offset = 16 : i64} : () -> memref<f32>
    %out = "fdt.buffer"() {first = 2 : i64, last = 3 : i64, name = "output0", offset = 0 : i64} : () -> memref<f32>
    %x = memref.load %in[] : memref<f32>
    memref.store %x, %t[] : memref<f32>
    %y = memref.load %t[] : memref<f32>
    memref.store %y, %out[] : memref<f32>
    return
  }
}
