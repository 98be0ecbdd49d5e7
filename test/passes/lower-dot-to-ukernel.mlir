// RUN: fdt-opt-mlir %s --split-input-file --fdt-lower-dot-to-ukernel | FileCheck %s

// A 3x3 conv window on an NHWC input of width 5 and 4 channels, one output
// element: the (kw, c) loops walk 12 consecutive bytes of both the input
// and the OHWI weights, so they become one fdt_dot_s8 call per kh, at the
// run's start (kw = c = 0), with the zero points as offsets. The kh loop,
// whose input stride (20) differs from the weights' (12), stays.

// CHECK:       emitc.verbatim "/* Two int8 lanes of a word
// CHECK-NEXT:  emitc.verbatim "/* fdt_dot_s8:
// CHECK-LABEL: func.func @conv_window
// CHECK-SAME:    (%[[X:.*]]: memref<100xi8>, %[[W:.*]]: memref<36xi8>, %[[ACC:.*]]: memref<1xi32>)
// CHECK:         scf.for %[[KH:.*]] = %c0 to %c3 step %c1 {
// CHECK-NOT:       scf.for
// CHECK:           %[[A0:.*]] = memref.load %[[ACC]][%c0] : memref<1xi32>
// CHECK:           %[[XA:.*]] = builtin.unrealized_conversion_cast %[[X]] : memref<100xi8> to !emitc.array<100xi8>
// CHECK:           %[[XB:.*]] = builtin.unrealized_conversion_cast %{{.*}} : index to !emitc.size_t
// CHECK:           %[[WA:.*]] = builtin.unrealized_conversion_cast %[[W]] : memref<36xi8> to !emitc.array<36xi8>
// CHECK:           %[[WB:.*]] = builtin.unrealized_conversion_cast %{{.*}} : index to !emitc.size_t
// CHECK:           %[[N:.*]] = builtin.unrealized_conversion_cast %c12{{.*}} : index to !emitc.size_t
// CHECK:           %[[S:.*]] = emitc.call_opaque "fdt_dot_s8"(%[[A0]], %[[XA]], %[[XB]], %[[WA]], %[[WB]], %[[N]], %c128_i32, %c0_i32)
// CHECK:           memref.store %[[S]], %[[ACC]][%c0] : memref<1xi32>
// CHECK-NEXT:    }
func.func @conv_window(%x: memref<100xi8>, %w: memref<36xi8>, %acc: memref<1xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c12 = arith.constant 12 : index
  %c20 = arith.constant 20 : index
  %zp = arith.constant -128 : i32
  scf.for %kh = %c0 to %c3 step %c1 {
    scf.for %kw = %c0 to %c3 step %c1 {
      scf.for %c = %c0 to %c4 step %c1 {
        %r = arith.muli %kh, %c20 : index
        %p = arith.muli %kw, %c4 : index
        %i0 = arith.addi %r, %p : index
        %i = arith.addi %i0, %c : index
        %q = arith.muli %kh, %c12 : index
        %j0 = arith.addi %q, %p : index
        %j = arith.addi %j0, %c : index
        %xv = memref.load %x[%i] : memref<100xi8>
        %wv = memref.load %w[%j] : memref<36xi8>
        %a = memref.load %acc[%c0] : memref<1xi32>
        %x32 = arith.extsi %xv : i8 to i32
        %xs = arith.subi %x32, %zp : i32
        %w32 = arith.extsi %wv : i8 to i32
        %m = arith.muli %xs, %w32 : i32
        %s = arith.addi %a, %m : i32
        memref.store %s, %acc[%c0] : memref<1xi32>
      }
    }
  }
  return
}

// -----

// A window clipped at run time (fdt-skip-padding): the run's length is the
// loop's trip count, never negative.

// CHECK-LABEL: func.func @clipped
// CHECK:         %[[T:.*]] = arith.subi %[[HI:.*]], %[[LO:.*]] : index
// CHECK:         %[[P:.*]] = arith.maxsi %[[T]], %c0{{.*}} : index
// CHECK:         %[[L:.*]] = arith.muli %[[P]], %c1{{.*}} : index
// CHECK:         builtin.unrealized_conversion_cast %[[L]] : index to !emitc.size_t
// CHECK:         emitc.call_opaque "fdt_dot_s8"
// CHECK-NOT:     scf.for
func.func @clipped(%x: memref<16xi8>, %w: memref<16xi8>, %acc: memref<1xi32>, %lo: index, %hi: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %k = %lo to %hi step %c1 {
    %xv = memref.load %x[%k] : memref<16xi8>
    %wv = memref.load %w[%k] : memref<16xi8>
    %a = memref.load %acc[%c0] : memref<1xi32>
    %x32 = arith.extsi %xv : i8 to i32
    %w32 = arith.extsi %wv : i8 to i32
    %m = arith.muli %x32, %w32 : i32
    %s = arith.addi %a, %m : i32
    memref.store %s, %acc[%c0] : memref<1xi32>
  }
  return
}

// -----

// Not a contiguous run: a depthwise window reads the input with a stride of
// its channel count, and a guarded (border) read is fdt-skip-padding's to
// handle. Both loops stay.

// CHECK-NOT:   emitc.verbatim
// CHECK-LABEL: func.func @strided
// CHECK-NOT:     fdt_dot_s8
// CHECK:         scf.for
// CHECK-LABEL: func.func @guarded
// CHECK-NOT:     fdt_dot_s8
// CHECK:         scf.for
func.func @strided(%x: memref<64xi8>, %w: memref<8xi8>, %acc: memref<1xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.for %k = %c0 to %c8 step %c1 {
    %i = arith.muli %k, %c8 : index
    %xv = memref.load %x[%i] : memref<64xi8>
    %wv = memref.load %w[%k] : memref<8xi8>
    %a = memref.load %acc[%c0] : memref<1xi32>
    %x32 = arith.extsi %xv : i8 to i32
    %w32 = arith.extsi %wv : i8 to i32
    %m = arith.muli %x32, %w32 : i32
    %s = arith.addi %a, %m : i32
    memref.store %s, %acc[%c0] : memref<1xi32>
  }
  return
}
func.func @guarded(%x: memref<8xi8>, %w: memref<8xi8>, %acc: memref<1xi32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %pad = arith.constant 0 : i8
  scf.for %k = %c0 to %c8 step %c1 {
    %in = arith.cmpi slt, %k, %n : index
    %xv = scf.if %in -> (i8) {
      %v = memref.load %x[%k] : memref<8xi8>
      scf.yield %v : i8
    } else {
      scf.yield %pad : i8
    }
    %wv = memref.load %w[%k] : memref<8xi8>
    %a = memref.load %acc[%c0] : memref<1xi32>
    %x32 = arith.extsi %xv : i8 to i32
    %w32 = arith.extsi %wv : i8 to i32
    %m = arith.muli %x32, %w32 : i32
    %s = arith.addi %a, %m : i32
    memref.store %s, %acc[%c0] : memref<1xi32>
  }
  return
}

// -----

// float32: the same run, as fdt_dot_f32 on a float accumulator, with no
// offsets.

// CHECK:       emitc.verbatim "/* fdt_dot_f32:
// CHECK-LABEL: func.func @float_row
// CHECK:         %[[A:.*]] = memref.load %{{.*}}[%c0] : memref<1xf32>
// CHECK:         %[[S:.*]] = emitc.call_opaque "fdt_dot_f32"(%[[A]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (f32, !emitc.array<16xf32>, !emitc.size_t, !emitc.array<16xf32>, !emitc.size_t, !emitc.size_t) -> f32
// CHECK:         memref.store %[[S]], %{{.*}}[%c0] : memref<1xf32>
// CHECK-NOT:     scf.for
func.func @float_row(%x: memref<16xf32>, %w: memref<16xf32>, %acc: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  scf.for %k = %c0 to %c16 step %c1 {
    %xv = memref.load %x[%k] : memref<16xf32>
    %wv = memref.load %w[%k] : memref<16xf32>
    %a = memref.load %acc[%c0] : memref<1xf32>
    %m = arith.mulf %xv, %wv : f32
    %s = arith.addf %a, %m : f32
    memref.store %s, %acc[%c0] : memref<1xf32>
  }
  return
}
