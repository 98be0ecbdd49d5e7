// RUN: fdt-opt-mlir %s --split-input-file --overlap --fdt-plan-memory | FileCheck %s
// RUN: fdt-opt-mlir %s --split-input-file --fdt-plan-memory | FileCheck %s --check-prefix=APART

// Overlap mode (`--overlap` sets the module's fdt.overlap): a kernel's
// output may be placed over the part of its input that it has already read
// for the last time, as far as analysis.safe_overlap proves from the loops'
// accesses (D: the largest safe offset(output) - offset(input)). Without
// it (APART) buffers live together never share bytes, as in plan-memory.mlir.

// An elementwise chain: iteration i reads in[i], then writes a[i], so a may
// start at the input's offset (D = 0), and so may the output over a. Steps:
// 0-3 constants, 4 loop (in -> a), 5 loop (a -> out), 6 return. All three
// buffers share offset 0: the arena is one buffer, 64 bytes (128 apart).

// CHECK-LABEL: module attributes {fdt.overlap}
// CHECK:       func.func @chain() {
// CHECK-NEXT:    "fdt.arena"() {alignment = 16 : i64, lower_bound = 64 : i64, method = "exact", size = 64 : i64}
// CHECK-NEXT:    "fdt.buffer"() {first = 0 : i64, last = 4 : i64, name = "input0", offset = 0 : i64} : () -> memref<64xi8>
// CHECK-NEXT:    "fdt.buffer"() {first = 5 : i64, last = 6 : i64, name = "output0", offset = 0 : i64} : () -> memref<64xi8>
// CHECK-NEXT:    "fdt.buffer"() {first = 4 : i64, last = 5 : i64, name = "buf0", offset = 0 : i64} : () -> memref<64xi8>

// APART-LABEL: func.func @chain() {
// APART-NEXT:    "fdt.arena"() {alignment = 16 : i64, lower_bound = 128 : i64, method = "exact", size = 128 : i64}
// APART-NEXT:    "fdt.buffer"() {first = 0 : i64, last = 4 : i64, name = "input0", offset = 0 : i64}
// APART-NEXT:    "fdt.buffer"() {first = 5 : i64, last = 6 : i64, name = "output0", offset = 0 : i64}
// APART-NEXT:    "fdt.buffer"() {first = 4 : i64, last = 5 : i64, name = "buf0", offset = 64 : i64}
func.func @chain(%in: memref<64xi8>) -> memref<64xi8> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %one = arith.constant 1 : i8
  %a = memref.alloc() {alignment = 64 : i64} : memref<64xi8>
  scf.for %i = %c0 to %c64 step %c1 {
    %x = memref.load %in[%i] : memref<64xi8>
    %y = arith.addi %x, %one : i8
    memref.store %y, %a[%i] : memref<64xi8>
  }
  %out = memref.alloc() {alignment = 64 : i64} : memref<64xi8>
  scf.for %i = %c0 to %c64 step %c1 {
    %x = memref.load %a[%i] : memref<64xi8>
    %y = arith.muli %x, %x : i8
    memref.store %y, %out[%i] : memref<64xi8>
  }
  return %out : memref<64xi8>
}

// -----

// A 3x3 convolution with SAME padding on a 6x6 image, one channel: output
// pixel (y, x) reads input rows y-1..y+1, so the input's last reads run one
// row and one pixel ahead of the output's writes. At shift d = -6, output
// byte o = 6y + x (written by iteration (y, x)) lands on input byte
// 6(y-1) + x, which iteration (y, x+1) still reads; every shift up to -7 is
// safe. So D = -7: the output must start at least 7 bytes below the
// input, 16 at the arena's alignment. input0 at 16 and output0 at 0 end at
// 52 bytes, which the lower bound (sizes less what the pair may share)
// proves smallest; apart they take 48 + 36 = 84.

// CHECK-LABEL: module attributes {fdt.overlap}
// CHECK:       func.func @conv3x3() {
// CHECK-NEXT:    "fdt.arena"() {alignment = 16 : i64, lower_bound = 52 : i64, method = "exact", size = 52 : i64}
// CHECK-NEXT:    "fdt.buffer"() {first = 0 : i64, last = 5 : i64, name = "input0", offset = 16 : i64} : () -> memref<36xi8>
// CHECK-NEXT:    "fdt.buffer"() {first = 5 : i64, last = 6 : i64, name = "output0", offset = 0 : i64} : () -> memref<36xi8>

// APART-LABEL: func.func @conv3x3() {
// APART-NEXT:    "fdt.arena"() {alignment = 16 : i64, lower_bound = 84 : i64, method = "exact", size = 84 : i64}
// APART-NEXT:    "fdt.buffer"() {first = 0 : i64, last = 5 : i64, name = "input0", offset = 0 : i64}
// APART-NEXT:    "fdt.buffer"() {first = 5 : i64, last = 6 : i64, name = "output0", offset = 48 : i64}
func.func @conv3x3(%in: memref<36xi8>) -> memref<36xi8> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c6 = arith.constant 6 : index
  %zero = arith.constant 0 : i32
  %out = memref.alloc() {alignment = 64 : i64} : memref<36xi8>
  %acc = memref.alloc() {alignment = 64 : i64} : memref<1xi32>
  scf.for %oy = %c0 to %c6 step %c1 {
    scf.for %ox = %c0 to %c6 step %c1 {
      memref.store %zero, %acc[%c0] : memref<1xi32>
      scf.for %ky = %c0 to %c3 step %c1 {
        scf.for %kx = %c0 to %c3 step %c1 {
          %r0 = arith.addi %oy, %ky : index
          %r = arith.subi %r0, %c1 : index
          %q0 = arith.addi %ox, %kx : index
          %q = arith.subi %q0, %c1 : index
          %r_lo = arith.cmpi sge, %r, %c0 : index
          %r_hi = arith.cmpi slt, %r, %c6 : index
          %q_lo = arith.cmpi sge, %q, %c0 : index
          %q_hi = arith.cmpi slt, %q, %c6 : index
          %r_ok = arith.andi %r_lo, %r_hi : i1
          %q_ok = arith.andi %q_lo, %q_hi : i1
          %ok = arith.andi %r_ok, %q_ok : i1
          %v = scf.if %ok -> (i32) {
            %row = arith.muli %r, %c6 : index
            %at = arith.addi %row, %q : index
            %x = memref.load %in[%at] : memref<36xi8>
            %x32 = arith.extsi %x : i8 to i32
            scf.yield %x32 : i32
          } else {
            scf.yield %zero : i32
          }
          %s = memref.load %acc[%c0] : memref<1xi32>
          %t = arith.addi %s, %v : i32
          memref.store %t, %acc[%c0] : memref<1xi32>
        }
      }
      %sum = memref.load %acc[%c0] : memref<1xi32>
      %y = arith.trunci %sum : i32 to i8
      %orow = arith.muli %oy, %c6 : index
      %oat = arith.addi %orow, %ox : index
      memref.store %y, %out[%oat] : memref<36xi8>
    }
  }
  return %out : memref<36xi8>
}

// -----

// Element types that C may not alias: a float32 input and an int32 output
// (neither one byte wide). The kernel would allow D = 0, but a C compiler may
// move the int32 store before the float load of the same bytes (strict
// aliasing), so the pair is not offered: the buffers stay apart.

// CHECK-LABEL: module attributes {fdt.overlap}
// CHECK:       func.func @float_to_int() {
// CHECK-NEXT:    "fdt.arena"() {alignment = 16 : i64, lower_bound = 128 : i64, method = "exact", size = 128 : i64}
// CHECK-NEXT:    "fdt.buffer"() {first = 0 : i64, last = 3 : i64, name = "input0", offset = 0 : i64} : () -> memref<16xf32>
// CHECK-NEXT:    "fdt.buffer"() {first = 3 : i64, last = 4 : i64, name = "output0", offset = 64 : i64} : () -> memref<16xi32>
func.func @float_to_int(%in: memref<16xf32>) -> memref<16xi32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %out = memref.alloc() {alignment = 64 : i64} : memref<16xi32>
  scf.for %i = %c0 to %c16 step %c1 {
    %x = memref.load %in[%i] : memref<16xf32>
    %y = arith.fptosi %x : f32 to i32
    memref.store %y, %out[%i] : memref<16xi32>
  }
  return %out : memref<16xi32>
}

// -----

// Loops marked fdt.reversible (fdt-tile-kernels' loops over output
// elements) may run last iteration first, which fdt-plan-memory chooses
// with the layout. Each kernel reads a 3-wide window: run forwards, in[p]
// is last read by iteration p + 1, so the output must start 1 byte below
// its input (16 aligned); run backwards, by iteration p - 1, so it may
// start 1 byte above it (U = 1). Forwards both, the chain drifts down:
// 32 + 64 = 96 B. The first kernel runs backwards (buf0 16 B above the
// input, its loop reading and writing at 63 - i), the second forwards
// (the output 16 B below buf0, over the input): 80 B, the lower bound. No
// mark is left. Apart, 128 B and no loop reversed.

// CHECK-LABEL: module attributes {fdt.overlap}
// CHECK:       func.func @windows() {
// CHECK-NEXT:    "fdt.arena"() {alignment = 16 : i64, lower_bound = 80 : i64, method = "exact", size = 80 : i64}
// CHECK-NEXT:    %[[IN:.*]] = "fdt.buffer"() {first = 0 : i64, last = 4 : i64, name = "input0", offset = 0 : i64}
// CHECK-NEXT:    %[[OUT:.*]] = "fdt.buffer"() {first = 5 : i64, last = 6 : i64, name = "output0", offset = 0 : i64}
// CHECK-NEXT:    %[[A:.*]] = "fdt.buffer"() {first = 4 : i64, last = 5 : i64, name = "buf0", offset = 16 : i64}
// CHECK:         %c64 = arith.constant 64 : index
// CHECK-NEXT:    %[[LAST:.*]] = arith.constant 63 : index
// CHECK-NEXT:    scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NEXT:      %[[J:.*]] = arith.subi %[[LAST]], %[[I]] : index
// CHECK:           memref.store %{{.*}}, %[[A]][%[[J]]]
// CHECK-NEXT:    }
// CHECK-NEXT:    scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NOT:       arith.subi %{{.*}}, %[[K]]
// CHECK:           memref.store %{{.*}}, %[[OUT]][%[[K]]]
// CHECK-NEXT:    }
// CHECK-NOT:     fdt.reversible

// APART-LABEL: func.func @windows() {
// APART-NEXT:    "fdt.arena"() {alignment = 16 : i64, lower_bound = 128 : i64, method = "exact", size = 128 : i64}
// APART-NOT:     arith.subi %c63
// APART-NOT:     fdt.reversible
func.func @windows(%in: memref<64xi8>) -> memref<64xi8> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c63 = arith.constant 63 : index
  %c64 = arith.constant 64 : index
  %a = memref.alloc() {alignment = 64 : i64} : memref<64xi8>
  scf.for %i = %c0 to %c64 step %c1 {
    %l = arith.subi %i, %c1 : index
    %left = arith.maxsi %l, %c0 : index
    %r = arith.addi %i, %c1 : index
    %right = arith.minsi %r, %c63 : index
    %x = memref.load %in[%left] : memref<64xi8>
    %y = memref.load %in[%right] : memref<64xi8>
    %s = arith.addi %x, %y : i8
    memref.store %s, %a[%i] : memref<64xi8>
  } {fdt.reversible}
  %out = memref.alloc() {alignment = 64 : i64} : memref<64xi8>
  scf.for %i = %c0 to %c64 step %c1 {
    %l = arith.subi %i, %c1 : index
    %left = arith.maxsi %l, %c0 : index
    %r = arith.addi %i, %c1 : index
    %right = arith.minsi %r, %c63 : index
    %x = memref.load %a[%left] : memref<64xi8>
    %y = memref.load %a[%right] : memref<64xi8>
    %s = arith.subi %x, %y : i8
    memref.store %s, %out[%i] : memref<64xi8>
  } {fdt.reversible}
  return %out : memref<64xi8>
}
