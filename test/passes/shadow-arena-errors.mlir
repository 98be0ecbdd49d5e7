// RUN: not fdt-opt-mlir %s --fdt-shadow-arena 2>&1 | FileCheck %s --match-full-lines --implicit-check-not='{{.}}'

// An arena buffer reaching an op whose accesses the pass does not know
// (here a memref.copy) is an error, not an unchecked access.

// CHECK: fdt-opt-mlir: error: fdt-shadow-arena: unchecked access of input0 by memref.copy
module {
  func.func @m() {
    "fdt.arena"() {alignment = 16 : i64, lower_bound = 16 : i64, method = "exact", size = 16 : i64} : () -> ()
    %in = "fdt.buffer"() {first = 0 : i64, last = 1 : i64, name = "input0", offset = 0 : i64} : () -> memref<4xi8>
    %out = "fdt.buffer"() {first = 1 : i64, last = 2 : i64, name = "output0", offset = 4 : i64} : () -> memref<4xi8>
    memref.copy %in, %out : memref<4xi8> to memref<4xi8>
    return
  }
}
