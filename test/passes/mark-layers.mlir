// RUN: fdt-opt-mlir %s --fdt-plan-memory --fdt-mark-layers | FileCheck %s

// Three operators as the planned program runs them: CONV_2D:0 in two loop
// nests (its accumulation and its requantization), then a tile loop that
// belongs to DEPTHWISE_CONV_2D:2, whose body also runs MAX_POOL_2D:1. A
// mark goes before the first step of each operator, none before the
// declarations at the top (constants), and fdt_layer(-1) before the return;
// the module declares the function the profiler defines.

// CHECK:       emitc.verbatim "void fdt_layer(int layer);"
// CHECK-LABEL: func.func @net() {
// CHECK:         arith.constant
// CHECK-NOT:     fdt_layer
// CHECK:         emitc.call_opaque "fdt_layer"() {args = [0 : i32]} : () -> ()
// CHECK-NEXT:    scf.for
// CHECK-NOT:     fdt_layer
// CHECK:         scf.for
// CHECK:         emitc.call_opaque "fdt_layer"() {args = [2 : i32]} : () -> ()
// CHECK-NEXT:    scf.for
// CHECK-NOT:     fdt_layer
// CHECK:         emitc.call_opaque "fdt_layer"() {args = [-1 : i32]} : () -> ()
// CHECK-NEXT:    return
func.func @net(%in: memref<4xi8>) -> memref<4xi8> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %a = memref.alloc() : memref<4xi32>
  %b = memref.alloc() : memref<4xi8>
  %out = memref.alloc() : memref<4xi8>
  scf.for %i = %c0 to %c4 step %c1 {
    %x = memref.load %in[%i] : memref<4xi8>
    %y = arith.extsi %x : i8 to i32 loc("CONV_2D:0")
    memref.store %y, %a[%i] : memref<4xi32>
  } loc("CONV_2D:0")
  scf.for %i = %c0 to %c4 step %c1 {
    %x = memref.load %a[%i] : memref<4xi32>
    %y = arith.trunci %x : i32 to i8 loc("CONV_2D:0")
    memref.store %y, %b[%i] : memref<4xi8>
  } loc("CONV_2D:0")
  scf.for %i = %c0 to %c4 step %c1 {
    %x = memref.load %b[%i] : memref<4xi8>
    %y = arith.addi %x, %x : i8 loc("MAX_POOL_2D:1")
    %z = arith.addi %y, %x : i8 loc("DEPTHWISE_CONV_2D:2")
    memref.store %z, %out[%i] : memref<4xi8>
  } loc("DEPTHWISE_CONV_2D:2")
  return %out : memref<4xi8>
}
