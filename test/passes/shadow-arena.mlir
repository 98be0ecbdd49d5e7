// RUN: fdt-opt-mlir %s --fdt-shadow-arena | FileCheck %s
// RUN: fdt-opt-mlir %s --fdt-shadow-arena --fdt-lower-arena-to-emitc --convert-to-emitc --reconcile-unrealized-casts | FileCheck %s --check-prefix=EMITC

// A planned model @m: an int8 input at 32, an int32 intermediate at 0 and an
// int8 output at 16, its first kernel a microkernel call on the input. The
// runtime at the top of the module holds the buffers' offsets, element
// counts and widths, kinds (1: input, tagged at the start of an invoke; 2:
// output, checked at its end), names and one site per access (its
// operator), in the order of the buffers' uses. An invoke starts with m_shadow_begin and ends with
// m_shadow_end; a load checks its element before it runs
// (m_shadow_access(0, buffer, index, row 0, 1 row, col 0, 1 col, width 1,
// site)), a store retags it after. fdt_dot2_s8 reads `rows` rows of `n`
// elements of its argument 1, `a_row` apart from `a_base`: checked before
// the call; its accumulator is a local, not checked.

// CHECK:       emitc.verbatim
// CHECK-SAME:    static uint16_t m_shadow_tags[48];
// CHECK-SAME:    m_shadow_offsets[] = { 32, 0, 16 }
// CHECK-SAME:    m_shadow_counts[] = { 16, 3, 3 }
// CHECK-SAME:    m_shadow_widths[] = { 1, 4, 1 }
// CHECK-SAME:    m_shadow_kinds[] = { 1, 0, 2 }
// CHECK-SAME:    m_shadow_names[] = { \22input0\22, \22buf0\22, \22output0\22 }
// CHECK-SAME:    m_shadow_sites[] = { \22the end of the invoke (model outputs)\22, \22CONV_2D:0: fdt_dot2_s8 argument 1\22, \22ADD:1: load\22, \22CONV_2D:0: store\22, \22ADD:1: store\22 }
// CHECK-SAME:    const char *m_shadow_error(void)

// CHECK-LABEL: func.func @m()
// CHECK:         "fdt.buffer"() {{.*}} name = "output0"
// CHECK-NEXT:    emitc.call_opaque "m_shadow_begin"()
// CHECK:         scf.for %[[I:.*]] =
// CHECK:           emitc.call_opaque "m_shadow_access"(%[[BASE:.*]], %[[ROW:.*]], %[[ROWS:.*]], %[[N:.*]]) {args = [0 : i32, 0 : i32, 0 : index, 1 : index, 2 : index, 0 : i32, 1 : i32, 3 : index, 1 : i32]}
// CHECK-NEXT:      emitc.call_opaque "fdt_dot2_s8"(%{{.*}}, %{{.*}}, %[[BASE]], %[[ROW]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[ROWS]], %[[N]]
// CHECK:           memref.store %{{.*}}, %{{.*}}[%[[I]]] : memref<3xi32>
// CHECK-NEXT:      %[[J:.*]] = builtin.unrealized_conversion_cast %[[I]] : index to !emitc.size_t
// CHECK-NEXT:      emitc.call_opaque "m_shadow_access"(%[[J]]) {args = [1 : i32, 1 : i32, 0 : index, 0 : i32, 1 : i32, 0 : i32, 1 : i32, 1 : i32, 3 : i32]}
// CHECK:         scf.for %[[I:.*]] =
// CHECK-NEXT:      %[[J:.*]] = builtin.unrealized_conversion_cast %[[I]] : index to !emitc.size_t
// CHECK-NEXT:      emitc.call_opaque "m_shadow_access"(%[[J]]) {args = [0 : i32, 1 : i32, 0 : index, 0 : i32, 1 : i32, 0 : i32, 1 : i32, 1 : i32, 2 : i32]}
// CHECK-NEXT:      memref.load
// CHECK:           memref.store
// CHECK-NEXT:      builtin.unrealized_conversion_cast
// CHECK-NEXT:      emitc.call_opaque "m_shadow_access"(%{{.*}}) {args = [1 : i32, 2 : i32, 0 : index, 0 : i32, 1 : i32, 0 : i32, 1 : i32, 1 : i32, 4 : i32]}
// CHECK:         emitc.call_opaque "m_shadow_end"()
// CHECK-NEXT:    return

// The checks reach C as calls of the runtime's functions.
// EMITC-LABEL: emitc.func private @m_kernel
// EMITC:         call_opaque "m_shadow_begin"()
// EMITC:         call_opaque "m_shadow_access"
// EMITC:         call_opaque "m_shadow_end"()
module {
  func.func @m() {
    "fdt.arena"() {alignment = 16 : i64, lower_bound = 28 : i64, method = "by hand", size = 48 : i64} : () -> ()
    %in = "fdt.buffer"() {first = 0 : i64, last = 3 : i64, name = "input0", offset = 32 : i64} : () -> memref<16xi8>
    %t = "fdt.buffer"() {first = 3 : i64, last = 4 : i64, name = "buf0", offset = 0 : i64} : () -> memref<3xi32>
    %out = "fdt.buffer"() {first = 4 : i64, last = 5 : i64, name = "output0", offset = 16 : i64} : () -> memref<3xi8>
    %acc = memref.alloca() : memref<2xi32>
    %w = memref.get_global @w : memref<32xi8>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %c4 = arith.constant 4 : index
    %c0_i32 = arith.constant 0 : i32
    scf.for %i = %c0 to %c3 step %c1 {
      %a0 = builtin.unrealized_conversion_cast %acc : memref<2xi32> to !emitc.array<2xi32>
      %a1 = builtin.unrealized_conversion_cast %in : memref<16xi8> to !emitc.array<16xi8>
      %a2 = builtin.unrealized_conversion_cast %i : index to !emitc.size_t
      %a3 = builtin.unrealized_conversion_cast %c4 : index to !emitc.size_t
      %a4 = builtin.unrealized_conversion_cast %w : memref<32xi8> to !emitc.array<32xi8>
      %a5 = builtin.unrealized_conversion_cast %c0 : index to !emitc.size_t
      %a6 = builtin.unrealized_conversion_cast %c4 : index to !emitc.size_t
      %a7 = builtin.unrealized_conversion_cast %c4 : index to !emitc.size_t
      %a8 = builtin.unrealized_conversion_cast %c3 : index to !emitc.size_t
      %a9 = builtin.unrealized_conversion_cast %c4 : index to !emitc.size_t
      emitc.call_opaque "fdt_dot2_s8"(%a0, %a1, %a2, %a3, %a4, %a5, %a6, %a7, %a8, %a9, %c0_i32, %c0_i32) : (!emitc.array<2xi32>, !emitc.array<16xi8>, !emitc.size_t, !emitc.size_t, !emitc.array<32xi8>, !emitc.size_t, !emitc.size_t, !emitc.size_t, !emitc.size_t, !emitc.size_t, i32, i32) -> () loc("CONV_2D:0")
      %s = memref.load %acc[%c0] : memref<2xi32>
      memref.store %s, %t[%i] : memref<3xi32> loc("CONV_2D:0")
    }
    scf.for %i = %c0 to %c3 step %c1 {
      %x = memref.load %t[%i] : memref<3xi32> loc("ADD:1")
      %y = arith.trunci %x : i32 to i8
      memref.store %y, %out[%i] : memref<3xi8> loc("ADD:1")
    }
    return
  }
  memref.global "private" constant @w : memref<32xi8> = dense<1>
}


