// RUN: fdt-opt-mlir %s --split-input-file --fdt-block-channels | FileCheck %s

// One output pixel of a 3x3 depthwise conv over 6 channels (NHWC input of
// width 5, weights [kh][kw][c]): per channel, the bias into the accumulator,
// the window, then the result out. Channels 0-3 run as one block: four
// biases into a 4-element accumulator, one fdt_window4_s8 call for the
// window (row strides 30 and 18, column stride 6, 3x3 taps, the zero points
// as offsets), four results out. Channels 4 and 5 keep the original loop.

// CHECK:       emitc.verbatim "/* Two int8 lanes of a word
// CHECK-NEXT:  emitc.verbatim "/* fdt_window4_s8:
// CHECK-LABEL: func.func @depthwise
// CHECK-SAME:    (%[[X:.*]]: memref<90xi8>, %[[W:.*]]: memref<54xi8>, %[[B:.*]]: memref<6xi32>, %[[Y:.*]]: memref<6xi32>)
// CHECK:         %[[ACC4:.*]] = memref.alloca() : memref<4xi32>
// CHECK-NEXT:    %[[ACC:.*]] = memref.alloca() : memref<1xi32>
// CHECK:         scf.for %[[C:.*]] = %c0{{.*}} to %c4{{.*}} step %c4{{.*}} {
// CHECK:           %[[C1:.*]] = arith.addi %[[C]], %c1{{.*}} : index
// CHECK:           %[[C2:.*]] = arith.addi %[[C]], %c2{{.*}} : index
// CHECK:           %[[C3:.*]] = arith.addi %[[C]], %c3{{.*}} : index
// CHECK:           %[[B0:.*]] = memref.load %[[B]][%[[C]]]
// CHECK:           memref.store %[[B0]], %[[ACC4]][%c0{{.*}}]
// CHECK:           %[[B3:.*]] = memref.load %[[B]][%[[C3]]]
// CHECK:           memref.store %[[B3]], %[[ACC4]][%c3{{.*}}]
// CHECK-NOT:       scf.for
// CHECK:           emitc.call_opaque "fdt_window4_s8"
// CHECK-NOT:       scf.for
// CHECK:           %[[R0:.*]] = memref.load %[[ACC4]][%c0{{.*}}]
// CHECK:           memref.store %[[R0]], %[[Y]][%[[C]]]
// CHECK:           %[[R3:.*]] = memref.load %[[ACC4]][%c3{{.*}}]
// CHECK:           memref.store %[[R3]], %[[Y]][%[[C3]]]
// CHECK:         }
// CHECK:         scf.for %[[R:.*]] = %c4{{.*}} to %c6 step %c1 {
// CHECK:           scf.for
// CHECK:             scf.for
// CHECK:               memref.load %[[ACC]]
func.func @depthwise(%x: memref<90xi8>, %w: memref<54xi8>, %bias: memref<6xi32>, %y: memref<6xi32>) {
  %acc = memref.alloca() : memref<1xi32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c6 = arith.constant 6 : index
  %c18 = arith.constant 18 : index
  %c30 = arith.constant 30 : index
  %zp = arith.constant -128 : i32
  scf.for %c = %c0 to %c6 step %c1 {
    %b = memref.load %bias[%c] : memref<6xi32>
    memref.store %b, %acc[%c0] : memref<1xi32>
    scf.for %kh = %c0 to %c3 step %c1 {
      scf.for %kw = %c0 to %c3 step %c1 {
        %r = arith.muli %kh, %c30 : index
        %q = arith.muli %kw, %c6 : index
        %i0 = arith.addi %r, %q : index
        %i = arith.addi %i0, %c : index
        %s = arith.muli %kh, %c18 : index
        %j0 = arith.addi %s, %q : index
        %j = arith.addi %j0, %c : index
        %xv = memref.load %x[%i] : memref<90xi8>
        %wv = memref.load %w[%j] : memref<54xi8>
        %a = memref.load %acc[%c0] : memref<1xi32>
        %x32 = arith.extsi %xv : i8 to i32
        %xs = arith.subi %x32, %zp : i32
        %w32 = arith.extsi %wv : i8 to i32
        %m = arith.muli %xs, %w32 : i32
        %t = arith.addi %a, %m : i32
        memref.store %t, %acc[%c0] : memref<1xi32>
      }
    }
    %v = memref.load %acc[%c0] : memref<1xi32>
    memref.store %v, %y[%c] : memref<6xi32>
  }
  return
}

// -----

// A 1x1 conv's channel loop over 3 channels: the input does not move with
// the output channel and the weights move a row (8) further, so channels 0
// and 1 share one fdt_dot2_s8 call (one row of 8 contiguous elements, the
// second channel's weights 8 further). Channel 2 keeps the original loop.

// CHECK:       emitc.verbatim "/* Two int8 lanes of a word
// CHECK-NEXT:  emitc.verbatim "/* fdt_dot2_s8:
// CHECK-LABEL: func.func @pointwise
// CHECK-SAME:    (%[[X:.*]]: memref<8xi8>, %[[W:.*]]: memref<24xi8>, %[[Y:.*]]: memref<3xi32>)
// CHECK:         %[[ACC2:.*]] = memref.alloca() : memref<2xi32>
// CHECK:         scf.for %[[C:.*]] = %c0{{.*}} to %c2{{.*}} step %c2{{.*}} {
// CHECK:           memref.store %c0_i32, %[[ACC2]][%c0{{.*}}]
// CHECK:           memref.store %c0_i32, %[[ACC2]][%c1{{.*}}]
// CHECK-NOT:       scf.for
// CHECK:           emitc.call_opaque "fdt_dot2_s8"
// CHECK-NOT:       scf.for
// CHECK:           memref.load %[[ACC2]][%c0{{.*}}]
// CHECK:           memref.load %[[ACC2]][%c1{{.*}}]
// CHECK:         }
// CHECK:         scf.for %{{.*}} = %c2{{.*}} to %c3 step %c1 {
func.func @pointwise(%x: memref<8xi8>, %w: memref<24xi8>, %y: memref<3xi32>) {
  %acc = memref.alloca() : memref<1xi32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0 : i32
  scf.for %c = %c0 to %c3 step %c1 {
    memref.store %zero, %acc[%c0] : memref<1xi32>
    scf.for %k = %c0 to %c8 step %c1 {
      %r = arith.muli %c, %c8 : index
      %j = arith.addi %r, %k : index
      %xv = memref.load %x[%k] : memref<8xi8>
      %wv = memref.load %w[%j] : memref<24xi8>
      %a = memref.load %acc[%c0] : memref<1xi32>
      %x32 = arith.extsi %xv : i8 to i32
      %w32 = arith.extsi %wv : i8 to i32
      %m = arith.muli %x32, %w32 : i32
      %t = arith.addi %a, %m : i32
      memref.store %t, %acc[%c0] : memref<1xi32>
    }
    %v = memref.load %acc[%c0] : memref<1xi32>
    memref.store %v, %y[%c] : memref<3xi32>
  }
  return
}

// -----

// Neither kind: the input moves two elements per channel (a strided
// gather), so the loop is left alone.

// CHECK-NOT:   emitc.verbatim
// CHECK-LABEL: func.func @strided
// CHECK:         scf.for %{{.*}} = %c0 to %c4 step %c1 {
// CHECK-NOT:     emitc.call_opaque
func.func @strided(%x: memref<16xi8>, %w: memref<32xi8>, %y: memref<4xi32>) {
  %acc = memref.alloca() : memref<1xi32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0 : i32
  scf.for %c = %c0 to %c4 step %c1 {
    memref.store %zero, %acc[%c0] : memref<1xi32>
    scf.for %k = %c0 to %c8 step %c1 {
      %s = arith.muli %c, %c2 : index
      %i = arith.addi %s, %k : index
      %r = arith.muli %c, %c8 : index
      %j = arith.addi %r, %k : index
      %xv = memref.load %x[%i] : memref<16xi8>
      %wv = memref.load %w[%j] : memref<32xi8>
      %a = memref.load %acc[%c0] : memref<1xi32>
      %x32 = arith.extsi %xv : i8 to i32
      %w32 = arith.extsi %wv : i8 to i32
      %m = arith.muli %x32, %w32 : i32
      %t = arith.addi %a, %m : i32
      memref.store %t, %acc[%c0] : memref<1xi32>
    }
    %v = memref.load %acc[%c0] : memref<1xi32>
    memref.store %v, %y[%c] : memref<4xi32>
  }
  return
}

// -----

// float32: a depthwise row of 2 taps over 4 channels, as fdt_window4_f32 on
// a float accumulator array, with no offsets.

// CHECK:       emitc.verbatim "/* fdt_window4_f32:
// CHECK-LABEL: func.func @float_depthwise
// CHECK:         %[[ACC4:.*]] = memref.alloca() : memref<4xf32>
// CHECK:         emitc.call_opaque "fdt_window4_f32"(%{{.*}}) : (!emitc.array<4xf32>, !emitc.array<8xf32>, !emitc.size_t, !emitc.size_t, !emitc.size_t, !emitc.array<8xf32>, !emitc.size_t, !emitc.size_t, !emitc.size_t, !emitc.size_t, !emitc.size_t) -> ()
func.func @float_depthwise(%x: memref<8xf32>, %w: memref<8xf32>, %y: memref<4xf32>) {
  %acc = memref.alloca() : memref<1xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  scf.for %c = %c0 to %c4 step %c1 {
    memref.store %zero, %acc[%c0] : memref<1xf32>
    scf.for %kw = %c0 to %c2 step %c1 {
      %q = arith.muli %kw, %c4 : index
      %i = arith.addi %q, %c : index
      %xv = memref.load %x[%i] : memref<8xf32>
      %wv = memref.load %w[%i] : memref<8xf32>
      %a = memref.load %acc[%c0] : memref<1xf32>
      %m = arith.mulf %xv, %wv : f32
      %t = arith.addf %a, %m : f32
      memref.store %t, %acc[%c0] : memref<1xf32>
    }
    %v = memref.load %acc[%c0] : memref<1xf32>
    memref.store %v, %y[%c] : memref<4xf32>
  }
  return
}
