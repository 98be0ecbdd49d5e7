// RUN: fdt-opt-mlir %s --split-input-file --fdt-skip-padding --canonicalize | FileCheck %s

// A border tile of a padded 2-D window (fdt-fold-pad's guarded read): the
// input is loaded only where 0 <= kh + %r < %h and 0 <= kw + %s < %w, and
// the pad value, -5, is the zero point the kernel adds back (+5), so padded
// steps add nothing. The loops are narrowed to the in-bounds part and the
// guard disappears.

// CHECK-LABEL: func.func @border
// CHECK-SAME:    (%[[X:.*]]: memref<64xi8>, %[[W:.*]]: memref<9xi8>, %[[ACC:.*]]: memref<1xi32>, %[[R:.*]]: index, %[[S:.*]]: index, %[[H:.*]]: index, %[[WD:.*]]: index)
// CHECK:         %[[LO0:.*]] = arith.subi %c0, %[[R]]
// CHECK:         %[[A:.*]] = arith.maxsi %[[LO0]], %c0
// CHECK:         %[[HI0:.*]] = arith.subi %[[H]], %[[R]]
// CHECK:         %[[B:.*]] = arith.minsi %[[HI0]], %c3
// CHECK:         %[[LO1:.*]] = arith.subi %c0, %[[S]]
// CHECK:         %[[C:.*]] = arith.maxsi %[[LO1]], %c0
// CHECK:         %[[HI1:.*]] = arith.subi %[[WD]], %[[S]]
// CHECK:         %[[D:.*]] = arith.minsi %[[HI1]], %c3
// CHECK:         scf.for %{{.*}} = %[[A]] to %[[B]] step %c1 {
// CHECK:           scf.for %{{.*}} = %[[C]] to %[[D]] step %c1 {
// CHECK-NOT:         scf.if
// CHECK-NOT:         arith.cmpi
// CHECK:             memref.load %[[X]]
// CHECK-NOT:         scf.if
// CHECK:             memref.store
func.func @border(%x: memref<64xi8>, %w: memref<9xi8>, %acc: memref<1xi32>, %r: index, %s: index, %h: index, %wd: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c8 = arith.constant 8 : index
  %pad = arith.constant -5 : i8
  %zp = arith.constant -5 : i32
  scf.for %kh = %c0 to %c3 step %c1 {
    scf.for %kw = %c0 to %c3 step %c1 {
      %y = arith.addi %kh, %r : index
      %y0 = arith.cmpi sge, %y, %c0 : index
      %y1 = arith.cmpi slt, %y, %h : index
      %yin = arith.andi %y0, %y1 : i1
      %z = arith.addi %kw, %s : index
      %z0 = arith.cmpi sge, %z, %c0 : index
      %z1 = arith.cmpi slt, %z, %wd : index
      %zin = arith.andi %z0, %z1 : i1
      %in = arith.andi %yin, %zin : i1
      %xv = scf.if %in -> (i8) {
        %row = arith.muli %y, %c8 : index
        %i = arith.addi %row, %z : index
        %v = memref.load %x[%i] : memref<64xi8>
        scf.yield %v : i8
      } else {
        scf.yield %pad : i8
      }
      %k0 = arith.muli %kh, %c3 : index
      %k = arith.addi %k0, %kw : index
      %wv = memref.load %w[%k] : memref<9xi8>
      %a = memref.load %acc[%c0] : memref<1xi32>
      %x32 = arith.extsi %xv : i8 to i32
      %xs = arith.subi %x32, %zp : i32
      %w32 = arith.extsi %wv : i8 to i32
      %m = arith.muli %xs, %w32 : i32
      %t = arith.addi %a, %m : i32
      memref.store %t, %acc[%c0] : memref<1xi32>
    }
  }
  return
}

// -----

// A pad value that is not the zero point (a padded step would add
// (0 - -5) * w): the guard stays.

// CHECK-LABEL: func.func @pad_counts
// CHECK:         scf.for %{{.*}} = %c0 to %c3 step %c1 {
// CHECK:           scf.if
func.func @pad_counts(%x: memref<8xi8>, %w: memref<3xi8>, %acc: memref<1xi32>, %r: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %pad = arith.constant 0 : i8
  %zp = arith.constant -5 : i32
  scf.for %k = %c0 to %c3 step %c1 {
    %y = arith.addi %k, %r : index
    %in = arith.cmpi sge, %y, %c0 : index
    %xv = scf.if %in -> (i8) {
      %v = memref.load %x[%y] : memref<8xi8>
      scf.yield %v : i8
    } else {
      scf.yield %pad : i8
    }
    %wv = memref.load %w[%k] : memref<3xi8>
    %a = memref.load %acc[%c0] : memref<1xi32>
    %x32 = arith.extsi %xv : i8 to i32
    %xs = arith.subi %x32, %zp : i32
    %w32 = arith.extsi %wv : i8 to i32
    %m = arith.muli %xs, %w32 : i32
    %t = arith.addi %a, %m : i32
    memref.store %t, %acc[%c0] : memref<1xi32>
  }
  return
}

// -----

// float32: a padded element is 0.0, which adds nothing either.

// CHECK-LABEL: func.func @float_border
// CHECK:         %[[LO:.*]] = arith.subi %c0, %{{.*}}
// CHECK:         %[[A:.*]] = arith.maxsi %[[LO]], %c0
// CHECK:         scf.for %{{.*}} = %[[A]] to %{{.*}} step %c1 {
// CHECK-NOT:       scf.if
// CHECK:           arith.mulf
func.func @float_border(%x: memref<8xf32>, %w: memref<3xf32>, %acc: memref<1xf32>, %r: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %pad = arith.constant 0.0 : f32
  scf.for %k = %c0 to %c3 step %c1 {
    %y = arith.addi %k, %r : index
    %in = arith.cmpi sge, %y, %c0 : index
    %xv = scf.if %in -> (f32) {
      %v = memref.load %x[%y] : memref<8xf32>
      scf.yield %v : f32
    } else {
      scf.yield %pad : f32
    }
    %wv = memref.load %w[%k] : memref<3xf32>
    %a = memref.load %acc[%c0] : memref<1xf32>
    %m = arith.mulf %xv, %wv : f32
    %t = arith.addf %a, %m : f32
    memref.store %t, %acc[%c0] : memref<1xf32>
  }
  return
}
