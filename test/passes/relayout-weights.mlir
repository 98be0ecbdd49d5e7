// RUN: fdt-opt-mlir %s --split-input-file --fdt-relayout-weights | FileCheck %s

// A dense layer as TOSA lowers it: weights [in = 3][out = 2], read with the
// output loop outside and the reduction inside (index 2 * k + o). Stored
// transposed, [out][in], the reduction reads them contiguously (3 * o + k);
// both versions of the kernel (here: two loops) are rewritten alike.

// CHECK:       memref.global "private" constant @w : memref<6xi8> = dense<[1, 3, 5, 2, 4, 6]>
// CHECK-LABEL: func.func @dense
// CHECK:         scf.for %[[O:.*]] = %c0 to %c2 step %c1 {
// CHECK:           scf.for %[[K:.*]] = %c0 to %c3 step %c1 {
// CHECK:             %[[R:.*]] = arith.muli %[[O]], %c3{{.*}} : index
// CHECK:             %[[I:.*]] = arith.addi %[[K]], %[[R]] : index
// CHECK:             memref.load %{{.*}}[%[[I]]] : memref<6xi8>
// CHECK:         scf.for %[[O2:.*]] = %c0 to %c2 step %c1 {
// CHECK:           scf.for %[[K2:.*]] = %c0 to %c3 step %c1 {
// CHECK:             %[[R2:.*]] = arith.muli %[[O2]], %c3{{.*}} : index
// CHECK:             %[[I2:.*]] = arith.addi %[[K2]], %[[R2]] : index
// CHECK:             memref.load %{{.*}}[%[[I2]]] : memref<6xi8>
memref.global "private" constant @w : memref<6xi8> = dense<[1, 2, 3, 4, 5, 6]>
func.func @dense(%out: memref<2xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %w = memref.get_global @w : memref<6xi8>
  scf.for %o = %c0 to %c2 step %c1 {
    scf.for %k = %c0 to %c3 step %c1 {
      %r = arith.muli %k, %c2 : index
      %i = arith.addi %r, %o : index
      %v = memref.load %w[%i] : memref<6xi8>
      memref.store %v, %out[%o] : memref<2xi8>
    }
  }
  scf.for %o = %c0 to %c2 step %c1 {
    scf.for %k = %c0 to %c3 step %c1 {
      %r = arith.muli %k, %c2 : index
      %i = arith.addi %o, %r : index
      %v = memref.load %w[%i] : memref<6xi8>
      memref.store %v, %out[%o] : memref<2xi8>
    }
  }
  return
}

// -----

// Left alone: weights already in reading order, a constant also read at an
// index the loops do not cover one to one (a clamp), and a global that is
// not constant.

// CHECK: memref.global "private" constant @ordered : memref<6xi8> = dense<[1, 2, 3, 4, 5, 6]>
// CHECK: memref.global "private" constant @clamped : memref<6xi8> = dense<[1, 2, 3, 4, 5, 6]>
// CHECK: memref.global "private" @state : memref<6xi8> = dense<[1, 2, 3, 4, 5, 6]>
memref.global "private" constant @ordered : memref<6xi8> = dense<[1, 2, 3, 4, 5, 6]>
memref.global "private" constant @clamped : memref<6xi8> = dense<[1, 2, 3, 4, 5, 6]>
memref.global "private" @state : memref<6xi8> = dense<[1, 2, 3, 4, 5, 6]>
func.func @kept(%out: memref<2xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c5 = arith.constant 5 : index
  %a = memref.get_global @ordered : memref<6xi8>
  %b = memref.get_global @clamped : memref<6xi8>
  %s = memref.get_global @state : memref<6xi8>
  scf.for %o = %c0 to %c2 step %c1 {
    scf.for %k = %c0 to %c3 step %c1 {
      %r = arith.muli %o, %c3 : index
      %i = arith.addi %r, %k : index
      %v = memref.load %a[%i] : memref<6xi8>
      memref.store %v, %out[%o] : memref<2xi8>
      %t = arith.muli %k, %c2 : index
      %j = arith.addi %t, %o : index
      %u = memref.load %s[%j] : memref<6xi8>
      memref.store %u, %out[%o] : memref<2xi8>
      %x = memref.load %b[%j] : memref<6xi8>
      memref.store %x, %out[%o] : memref<2xi8>
      %m = arith.minsi %j, %c5 : index
      %y = memref.load %b[%m] : memref<6xi8>
      memref.store %y, %out[%o] : memref<2xi8>
    }
  }
  return
}
