// RUN: fdt-opt-mlir %s --split-input-file --fdt-plan-memory | FileCheck %s

// Four layers as fdt-bufferize and the lowering to loops leave them. The
// schedule is the function's top-level ops other than allocations (which
// become the declarations at the top of the planned function), from 0:
//   0-3 constants, 4 loop (%in -> %a, via %acc), 5 loop (%a -> %b),
//   6 loop (%b -> %c), 7 loop (%c -> %out), 8 return.
// A buffer is live from its first to its last using op; the input from 0,
// the output to the return. %acc has one element and is used by one op only:
// it becomes a memref.alloca (a C local), not an arena buffer. So:
//   input0  64 B [0, 4]    buf0 256 B [4, 5]    buf1 32 B [5, 6]
//   buf2   100 B [6, 7]    output0 16 B [7, 8]
// Greedy by size, largest first, at the lowest 16-aligned offset clear of
// every placed buffer live at the same time:
//   buf0    -> 0   (nothing placed)
//   buf2    -> 0   (buf0 is dead by 6: the two share offset 0)
//   input0  -> 256 (buf0 [0, 256) is live at 4)
//   buf1    -> 256 (buf0 [0, 256) and buf2 [0, 100) are live at 5 and 6;
//                   112 = align(100) would collide with buf0)
//   output0 -> 112 (only buf2 [0, 100) is live at 7: align(100) = 112)
// The arena ends at max(256, 100, 320, 288, 128) = 320 bytes: the 64 + 256
// bytes live at step 4, a lower bound, so the layout is exact. The function
// takes and returns nothing: its buffers are in the arena.

// CHECK-LABEL: func.func @net() {
// CHECK-NEXT:    "fdt.arena"() {alignment = 16 : i64, lower_bound = 320 : i64, method = "exact", size = 320 : i64} : () -> ()
// CHECK-NEXT:    %[[IN:.*]] = "fdt.buffer"() {first = 0 : i64, last = 4 : i64, name = "input0", offset = 256 : i64} : () -> memref<64xi8>
// CHECK-NEXT:    %[[OUT:.*]] = "fdt.buffer"() {first = 7 : i64, last = 8 : i64, name = "output0", offset = 112 : i64} : () -> memref<16xi8>
// CHECK-NEXT:    %[[A:.*]] = "fdt.buffer"() {first = 4 : i64, last = 5 : i64, name = "buf0", offset = 0 : i64} : () -> memref<64xi32>
// CHECK-NEXT:    %[[B:.*]] = "fdt.buffer"() {first = 5 : i64, last = 6 : i64, name = "buf1", offset = 256 : i64} : () -> memref<32xi8>
// CHECK-NEXT:    %[[C:.*]] = "fdt.buffer"() {first = 6 : i64, last = 7 : i64, name = "buf2", offset = 0 : i64} : () -> memref<100xi8>
// CHECK-NEXT:    %[[ACC:.*]] = memref.alloca() : memref<1xi32>
// CHECK-NOT:     memref.alloc(
// CHECK:         scf.for
// CHECK:           memref.load %[[IN]]
// CHECK:           memref.store %{{.*}}, %[[ACC]]
// CHECK:           memref.store %{{.*}}, %[[A]]
// CHECK:         scf.for
// CHECK:           memref.load %[[A]]
// CHECK:           memref.store %{{.*}}, %[[B]]
// CHECK:         scf.for
// CHECK:           memref.load %[[B]]
// CHECK:           memref.store %{{.*}}, %[[C]]
// CHECK:         scf.for
// CHECK:           memref.load %[[C]]
// CHECK:           memref.store %{{.*}}, %[[OUT]]
// CHECK:         return{{$}}
func.func @net(%in: memref<64xi8>) -> memref<16xi8> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %a = memref.alloc() {alignment = 64 : i64} : memref<64xi32>
  %acc = memref.alloc() {alignment = 64 : i64} : memref<1xi32>
  scf.for %i = %c0 to %c64 step %c1 {
    %x = memref.load %in[%i] : memref<64xi8>
    %x32 = arith.extsi %x : i8 to i32
    memref.store %x32, %acc[%c0] : memref<1xi32>
    %y = memref.load %acc[%c0] : memref<1xi32>
    memref.store %y, %a[%i] : memref<64xi32>
  }
  %b = memref.alloc() {alignment = 64 : i64} : memref<32xi8>
  scf.for %i = %c0 to %c16 step %c1 {
    %x = memref.load %a[%i] : memref<64xi32>
    %x8 = arith.trunci %x : i32 to i8
    memref.store %x8, %b[%i] : memref<32xi8>
  }
  %c = memref.alloc() {alignment = 64 : i64} : memref<100xi8>
  scf.for %i = %c0 to %c16 step %c1 {
    %x = memref.load %b[%i] : memref<32xi8>
    memref.store %x, %c[%i] : memref<100xi8>
  }
  %out = memref.alloc() {alignment = 64 : i64} : memref<16xi8>
  scf.for %i = %c0 to %c16 step %c1 {
    %x = memref.load %c[%i] : memref<100xi8>
    memref.store %x, %out[%i] : memref<16xi8>
  }
  return %out : memref<16xi8>
}

// -----

// Equal sizes are placed in order of first use, and a one-element buffer
// that two ops use (a sum computed by one loop, read by the next) stays in
// the arena. Schedule: 0-2 constants, 3 loop (%in -> %p), 4 loop
// (%p -> %s), 5 loop (%p, %s -> %q), 6 loop (%q -> %out), 7 return.
// Live ranges:
//   input0 32 B [0, 3]   buf0 (%p) 32 B [3, 5]   buf1 (%s) 4 B [4, 5]
//   buf2 (%q) 32 B [5, 6]   output0 32 B [6, 7]
// The four 32-byte buffers go in order input0, buf0, buf2, output0:
//   input0 -> 0; buf0 -> 32 (input0 live at 3); buf2 -> 0 (buf0 live at 5);
//   output0 -> 32 (buf2 live at 6); then buf1 -> 64 (buf0 [32, 64) and
//   buf2 [0, 32) are both live at 5). Arena: 68 bytes, the lower bound:
//   buf0, buf1 and buf2, live at 5, are stacked at 16-aligned offsets, all
//   but the topmost taking a multiple of 16 bytes, so at least 32 + 32 + 4.

// CHECK-LABEL: func.func @ties() {
// CHECK-NEXT:    "fdt.arena"() {alignment = 16 : i64, lower_bound = 68 : i64, method = "exact", size = 68 : i64}
// CHECK-NEXT:    "fdt.buffer"() {first = 0 : i64, last = 3 : i64, name = "input0", offset = 0 : i64} : () -> memref<32xi8>
// CHECK-NEXT:    "fdt.buffer"() {first = 6 : i64, last = 7 : i64, name = "output0", offset = 32 : i64} : () -> memref<32xi8>
// CHECK-NEXT:    "fdt.buffer"() {first = 3 : i64, last = 5 : i64, name = "buf0", offset = 32 : i64} : () -> memref<32xi8>
// CHECK-NEXT:    %[[S:.*]] = "fdt.buffer"() {first = 4 : i64, last = 5 : i64, name = "buf1", offset = 64 : i64} : () -> memref<1xi32>
// CHECK-NEXT:    "fdt.buffer"() {first = 5 : i64, last = 6 : i64, name = "buf2", offset = 0 : i64} : () -> memref<32xi8>
// CHECK-NOT:     memref.alloc
// CHECK:         memref.store %{{.*}}, %[[S]]
// CHECK:         memref.load %[[S]]
func.func @ties(%in: memref<32xi8>) -> memref<32xi8> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %p = memref.alloc() : memref<32xi8>
  scf.for %i = %c0 to %c32 step %c1 {
    %x = memref.load %in[%i] : memref<32xi8>
    memref.store %x, %p[%i] : memref<32xi8>
  }
  %s = memref.alloc() : memref<1xi32>
  scf.for %i = %c0 to %c32 step %c1 {
    %x = memref.load %p[%i] : memref<32xi8>
    %x32 = arith.extsi %x : i8 to i32
    %t = memref.load %s[%c0] : memref<1xi32>
    %n = arith.addi %t, %x32 : i32
    memref.store %n, %s[%c0] : memref<1xi32>
  }
  %q = memref.alloc() : memref<32xi8>
  scf.for %i = %c0 to %c32 step %c1 {
    %x = memref.load %p[%i] : memref<32xi8>
    %t = memref.load %s[%c0] : memref<1xi32>
    %t8 = arith.trunci %t : i32 to i8
    %y = arith.addi %x, %t8 : i8
    memref.store %y, %q[%i] : memref<32xi8>
  }
  %out = memref.alloc() : memref<32xi8>
  scf.for %i = %c0 to %c32 step %c1 {
    %x = memref.load %q[%i] : memref<32xi8>
    memref.store %x, %out[%i] : memref<32xi8>
  }
  return %out : memref<32xi8>
}

// -----

// Where greedy by size is not optimal, the exact search finds the optimum.
// Schedule: 0-3 constants, 4 loop (%in -> %a), 5 loop (%a -> %b), 6 loop
// (%b -> %out), 7 return. Live ranges:
//   input0 640 B [0, 4]   buf0 (%a) 128 B [4, 5]   buf1 (%b) 128 B [5, 6]
//   output0 640 B [6, 7]
// At most 768 bytes are live at once (steps 4 and 6). Greedy by size puts
// input0 and output0 both at 0, buf0 at 640 above input0, and then buf1,
// live with buf0 and output0, at 768: 896 bytes. The search finds 768:
// input0 at 0, buf0 at 640 above it, buf1 at 0 (input0 is dead at 5) and
// output0 at 128 above buf1.

// CHECK-LABEL: func.func @chain() {
// CHECK-NEXT:    "fdt.arena"() {alignment = 16 : i64, lower_bound = 768 : i64, method = "exact", size = 768 : i64} : () -> ()
// CHECK-NEXT:    "fdt.buffer"() {first = 0 : i64, last = 4 : i64, name = "input0", offset = 0 : i64} : () -> memref<640xi8>
// CHECK-NEXT:    "fdt.buffer"() {first = 6 : i64, last = 7 : i64, name = "output0", offset = 128 : i64} : () -> memref<640xi8>
// CHECK-NEXT:    "fdt.buffer"() {first = 4 : i64, last = 5 : i64, name = "buf0", offset = 640 : i64} : () -> memref<128xi8>
// CHECK-NEXT:    "fdt.buffer"() {first = 5 : i64, last = 6 : i64, name = "buf1", offset = 0 : i64} : () -> memref<128xi8>
func.func @chain(%in: memref<640xi8>) -> memref<640xi8> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c640 = arith.constant 640 : index
  %a = memref.alloc() : memref<128xi8>
  scf.for %i = %c0 to %c128 step %c1 {
    %x = memref.load %in[%i] : memref<640xi8>
    memref.store %x, %a[%i] : memref<128xi8>
  }
  %b = memref.alloc() : memref<128xi8>
  scf.for %i = %c0 to %c128 step %c1 {
    %x = memref.load %a[%i] : memref<128xi8>
    memref.store %x, %b[%i] : memref<128xi8>
  }
  %out = memref.alloc() : memref<640xi8>
  scf.for %i = %c0 to %c640 step %c1 {
    %j = arith.remui %i, %c128 : index
    %x = memref.load %b[%j] : memref<128xi8>
    memref.store %x, %out[%i] : memref<640xi8>
  }
  return %out : memref<640xi8>
}

// -----

// A tiled path as fdt-apply-plan and the lowering leave it: a tile loop whose
// body runs several kernels (here four copies, %in -> %t1 -> %t2 -> %t3 ->
// a slice of %out). Each op of a tile loop's body is a step of its own:
//   0-3 constants, 4-7 the four kernels of the loop body, 8 return.
// %t1, %t2 and %t3 are touched only inside the loop, so each iteration
// writes them before reading them: they live from the first to the last
// kernel that touches them, %t1 [4, 5], %t2 [5, 6], %t3 [6, 7], and %t1 and
// %t3 can share memory. %in (written by the caller) and %out (read by the
// return) hold data across iterations: they live through the whole loop,
// input0 [0, 7] and output0 [4, 8]. Greedy by size: input0 -> 0,
// output0 -> 64, buf0 (%t1) -> 128, buf1 (%t2) -> 144 (%t1 is live at 5),
// buf2 (%t3) -> 128 (%t1 is dead by 6). The arena, 160 B, is the 64 + 64 +
// 16 + 16 bytes live at steps 5 and 6, a lower bound: exact. Counted as one
// step, the loop would keep all three tiles live together: 176 B.

// CHECK-LABEL: func.func @path() {
// CHECK-NEXT:    "fdt.arena"() {alignment = 16 : i64, lower_bound = 160 : i64, method = "exact", size = 160 : i64} : () -> ()
// CHECK-NEXT:    "fdt.buffer"() {first = 0 : i64, last = 7 : i64, name = "input0", offset = 0 : i64} : () -> memref<64xi8>
// CHECK-NEXT:    "fdt.buffer"() {first = 4 : i64, last = 8 : i64, name = "output0", offset = 64 : i64} : () -> memref<64xi8>
// CHECK-NEXT:    "fdt.buffer"() {first = 4 : i64, last = 5 : i64, name = "buf0", offset = 128 : i64} : () -> memref<16xi8>
// CHECK-NEXT:    "fdt.buffer"() {first = 5 : i64, last = 6 : i64, name = "buf1", offset = 144 : i64} : () -> memref<16xi8>
// CHECK-NEXT:    "fdt.buffer"() {first = 6 : i64, last = 7 : i64, name = "buf2", offset = 128 : i64} : () -> memref<16xi8>
func.func @path(%in: memref<64xi8>) -> memref<64xi8> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %t1 = memref.alloc() {alignment = 64 : i64} : memref<16xi8>
  %t2 = memref.alloc() {alignment = 64 : i64} : memref<16xi8>
  %t3 = memref.alloc() {alignment = 64 : i64} : memref<16xi8>
  %out = memref.alloc() {alignment = 64 : i64} : memref<64xi8>
  scf.for %t = %c0 to %c64 step %c16 {
    scf.for %i = %c0 to %c16 step %c1 {
      %k = arith.addi %t, %i : index
      %x = memref.load %in[%k] : memref<64xi8>
      memref.store %x, %t1[%i] : memref<16xi8>
    }
    scf.for %i = %c0 to %c16 step %c1 {
      %x = memref.load %t1[%i] : memref<16xi8>
      memref.store %x, %t2[%i] : memref<16xi8>
    }
    scf.for %i = %c0 to %c16 step %c1 {
      %x = memref.load %t2[%i] : memref<16xi8>
      memref.store %x, %t3[%i] : memref<16xi8>
    }
    scf.for %i = %c0 to %c16 step %c1 {
      %k = arith.addi %t, %i : index
      %x = memref.load %t3[%i] : memref<16xi8>
      memref.store %x, %out[%k] : memref<64xi8>
    }
  }
  return %out : memref<64xi8>
}

// -----

// A one-row softmax's max: one element written by one loop of the kernel
// and read by the next loop of the same kernel (SOFTMAX:0). It stays a C
// local (memref.alloca) across the two loops, as TFLM's kernel keeps it in
// a register. The one element %last passes from SOFTMAX:0 to RELU:1, two
// kernels: it is an arena buffer.

// CHECK-LABEL: func.func @row_max() {
// CHECK-DAG:     "fdt.buffer"() {{.*}}name = "buf0"{{.*}} -> memref<1xf32>
// CHECK-DAG:     memref.alloca() : memref<1xf32>
// CHECK-NOT:     memref.alloc(
func.func @row_max(%in: memref<8xf32>) -> memref<8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %max = memref.alloc() : memref<1xf32>
  %out = memref.alloc() : memref<8xf32>
  %last = memref.alloc() : memref<1xf32>
  scf.for %i = %c0 to %c8 step %c1 {
    %x = memref.load %in[%i] : memref<8xf32>
    %m = memref.load %max[%c0] : memref<1xf32>
    %y = arith.maximumf %x, %m : f32
    memref.store %y, %max[%c0] : memref<1xf32>
  } loc("SOFTMAX:0")
  scf.for %i = %c0 to %c8 step %c1 {
    %x = memref.load %in[%i] : memref<8xf32>
    %m = memref.load %max[%c0] : memref<1xf32>
    %y = arith.subf %x, %m : f32
    memref.store %y, %out[%i] : memref<8xf32>
    memref.store %y, %last[%c0] : memref<1xf32>
  } loc("SOFTMAX:0")
  scf.for %i = %c0 to %c8 step %c1 {
    %x = memref.load %out[%i] : memref<8xf32>
    %l = memref.load %last[%c0] : memref<1xf32>
    %y = arith.maximumf %x, %l : f32
    memref.store %y, %out[%i] : memref<8xf32>
  } loc("RELU:1")
  return %out : memref<8xf32>
}
