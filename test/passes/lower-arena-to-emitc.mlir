// RUN: fdt-opt-mlir %s --split-input-file --fdt-lower-arena-to-emitc | FileCheck %s --implicit-check-not=fdt.arena --implicit-check-not=fdt.buffer

// A planned model @m as fdt-plan-memory leaves it: an int8 input at offset
// 32, an int32 intermediate at 0, a float output of 3 elements at 16, in a
// 48-byte arena. The function becomes the private kernel @m_kernel, taking
// the buffers as arguments in the order of the fdt.buffer ops. The API is
// EmitC: @m_invoke_with passing its arena + offset for each buffer; then,
// unless m_EXTERNAL_ARENA is defined, the static arena (placed by
// m_ARENA_ATTRIBUTES), @m_invoke running @m_invoke_with on it, @m_input0
// and @m_output0 returning typed pointers into it, and @m_run copying the
// input's 16 bytes in and the output's 12 bytes out.
// The global loses its alignment, which convert-memref-to-emitc would
// otherwise skip it for.

// CHECK:       emitc.include <"math.h">
// CHECK:       emitc.include <"stdint.h">
// CHECK:       emitc.include <"string.h">
// CHECK:       memref.global "private" constant @k : memref<3xf32> = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]>{{$}}

// CHECK-LABEL: func.func private @m_kernel
// CHECK-SAME:    (%[[IN:.*]]: memref<16xi8>, %[[T:.*]]: memref<3xi32>, %[[OUT:.*]]: memref<3xf32>) {
// CHECK:         scf.for
// CHECK:           memref.load %[[IN]]
// CHECK:           memref.store %{{.*}}, %[[T]]
// CHECK:         scf.for
// CHECK:           memref.load %[[T]]
// CHECK:           memref.store %{{.*}}, %[[OUT]]
// CHECK:         return{{$}}

// CHECK:       emitc.verbatim "#ifndef m_EXTERNAL_ARENA"
// CHECK-NEXT:  emitc.verbatim "static m_ARENA_ATTRIBUTES _Alignas(16) uint8_t m_arena[48];"
// CHECK-NEXT:  emitc.verbatim "#endif"

// CHECK-LABEL: emitc.func @m_invoke_with(%arg0: !emitc.ptr<ui8>) {
// CHECK-NEXT:    %[[O0:.*]] = "emitc.constant"() <{value = 32 : i32}> : () -> i32
// CHECK-NEXT:    %[[A0:.*]] = add %arg0, %[[O0]] : (!emitc.ptr<ui8>, i32) -> !emitc.ptr<ui8>
// CHECK-NEXT:    %[[P0:.*]] = cast %[[A0]] : !emitc.ptr<ui8> to !emitc.ptr<!emitc.opaque<"void">>
// CHECK-NEXT:    %[[O1:.*]] = "emitc.constant"() <{value = 0 : i32}> : () -> i32
// CHECK-NEXT:    %[[A1:.*]] = add %arg0, %[[O1]]
// CHECK-NEXT:    %[[P1:.*]] = cast %[[A1]]
// CHECK-NEXT:    %[[O2:.*]] = "emitc.constant"() <{value = 16 : i32}> : () -> i32
// CHECK-NEXT:    %[[A2:.*]] = add %arg0, %[[O2]]
// CHECK-NEXT:    %[[P2:.*]] = cast %[[A2]]
// CHECK-NEXT:    call_opaque "m_kernel"(%[[P0]], %[[P1]], %[[P2]])
// CHECK-NEXT:    return

// CHECK:       emitc.verbatim "#ifndef m_EXTERNAL_ARENA"
// CHECK-NEXT:  emitc.func @m_invoke() {
// CHECK-NEXT:    %[[BASE:.*]] = literal "m_arena" : !emitc.ptr<ui8>
// CHECK-NEXT:    call @m_invoke_with(%[[BASE]]) : (!emitc.ptr<ui8>) -> ()
// CHECK-NEXT:    return

// CHECK-LABEL: emitc.func @m_input0() -> !emitc.ptr<i8> {
// CHECK:         "emitc.constant"() <{value = 32 : i32}>
// CHECK:         %[[P:.*]] = cast %{{.*}} : !emitc.ptr<ui8> to !emitc.ptr<i8>
// CHECK-NEXT:    return %[[P]] : !emitc.ptr<i8>

// CHECK-LABEL: emitc.func @m_output0() -> !emitc.ptr<f32> {
// CHECK:         "emitc.constant"() <{value = 16 : i32}>
// CHECK:         %[[P:.*]] = cast %{{.*}} : !emitc.ptr<ui8> to !emitc.ptr<f32>
// CHECK-NEXT:    return %[[P]] : !emitc.ptr<f32>

// CHECK-LABEL: emitc.func @m_run
// CHECK-SAME:    (%[[X:.*]]: !emitc.ptr<!emitc.opaque<"const int8_t">>, %[[Y:.*]]: !emitc.ptr<f32>) {
// CHECK:         "emitc.constant"() <{value = 32 : i32}>
// CHECK:         %[[DST:.*]] = cast
// CHECK-NEXT:    %[[N:.*]] = literal "16" : !emitc.size_t
// CHECK-NEXT:    call_opaque "memcpy"(%[[DST]], %[[X]], %[[N]])
// CHECK-NEXT:    call @m_invoke() : () -> ()
// CHECK:         "emitc.constant"() <{value = 16 : i32}>
// CHECK:         %[[SRC:.*]] = cast
// CHECK-NEXT:    %[[N2:.*]] = literal "12" : !emitc.size_t
// CHECK-NEXT:    call_opaque "memcpy"(%[[Y]], %[[SRC]], %[[N2]])
// CHECK-NEXT:    return
// CHECK-NEXT:  }
// CHECK-NEXT:  emitc.verbatim "#endif"
// CHECK-LABEL: emitc.func @m_reset() {
// CHECK-NEXT:    return
memref.global "private" constant @k : memref<3xf32> = dense<[1.0, 2.0, 3.0]> {alignment = 64 : i64}
func.func @m() {
  "fdt.arena"() {alignment = 16 : i64, lower_bound = 28 : i64, method = "by hand", size = 48 : i64} : () -> ()
  %in = "fdt.buffer"() {first = 0 : i64, last = 3 : i64, name = "input0", offset = 32 : i64} : () -> memref<16xi8>
  %t = "fdt.buffer"() {first = 3 : i64, last = 4 : i64, name = "buf0", offset = 0 : i64} : () -> memref<3xi32>
  %out = "fdt.buffer"() {first = 4 : i64, last = 5 : i64, name = "output0", offset = 16 : i64} : () -> memref<3xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  scf.for %i = %c0 to %c3 step %c1 {
    %x = memref.load %in[%i] : memref<16xi8>
    %x32 = arith.extsi %x : i8 to i32
    memref.store %x32, %t[%i] : memref<3xi32>
  }
  scf.for %i = %c0 to %c3 step %c1 {
    %k = memref.get_global @k : memref<3xf32>
    %w = memref.load %k[%i] : memref<3xf32>
    %x = memref.load %t[%i] : memref<3xi32>
    %f = arith.sitofp %x : i32 to f32
    %y = arith.mulf %f, %w : f32
    memref.store %y, %out[%i] : memref<3xf32>
  }
  return
}

// -----

// A model with recurrent state (fdt-state-to-globals' mutable global):
// @m_reset zeroes its 8 bytes; the state is no arena buffer.

// CHECK:       // -----
// CHECK:       memref.global "private" @m_state0 : memref<2xf32> = uninitialized
// CHECK:       emitc.verbatim "static m_ARENA_ATTRIBUTES _Alignas(16) uint8_t m_arena[16];"
// CHECK-LABEL: emitc.func @m_reset() {
// CHECK-NEXT:    %[[S:.*]] = literal "m_state0" : !emitc.ptr<!emitc.opaque<"void">>
// CHECK-NEXT:    %[[Z:.*]] = "emitc.constant"() <{value = 0 : i32}> : () -> i32
// CHECK-NEXT:    %[[N:.*]] = literal "8" : !emitc.size_t
// CHECK-NEXT:    call_opaque "memset"(%[[S]], %[[Z]], %[[N]])
// CHECK-NEXT:    return
memref.global "private" @m_state0 : memref<2xf32> = uninitialized
func.func @m() {
  "fdt.arena"() {alignment = 16 : i64, lower_bound = 8 : i64, method = "exact", size = 16 : i64} : () -> ()
  %in = "fdt.buffer"() {first = 0 : i64, last = 1 : i64, name = "input0", offset = 0 : i64} : () -> memref<2xf32>
  %out = "fdt.buffer"() {first = 1 : i64, last = 2 : i64, name = "output0", offset = 8 : i64} : () -> memref<2xf32>
  %c0 = arith.constant 0 : index
  %s = memref.get_global @m_state0 : memref<2xf32>
  %x = memref.load %in[%c0] : memref<2xf32>
  %h = memref.load %s[%c0] : memref<2xf32>
  %y = arith.addf %x, %h : f32
  memref.store %y, %s[%c0] : memref<2xf32>
  memref.store %y, %out[%c0] : memref<2xf32>
  return
}

// -----

// A function without an fdt.arena (not planned) is left as it is.

// CHECK-LABEL: func.func @helper(%{{.*}}: memref<4xi8>)
// CHECK-NOT:     emitc.func
func.func @helper(%a: memref<4xi8>) {
  return
}
