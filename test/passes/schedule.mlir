// RUN: fdt-opt-mlir %s --split-input-file --fdt-schedule | FileCheck %s

// Two branches from %x (4 B) join in JOIN:4: HEAD:0 (4 B) -> WIDE:1
// (256 B), and SIDE:2 (256 B) -> SUM:3 (4 B). The import order keeps WIDE's
// output live while SIDE runs: 4 + 256 + 256 B. The best order runs HEAD
// first (the smallest index among the best orders), then the other branch
// down to its 4 B, then WIDE: 264 B at most. The tensor.empty that WIDE and
// SIDE share moves before its first user, SIDE; JOIN also writes into SUM's
// zero fill (cse shares such fills), which is not an edge of the schedule.

#vec = affine_map<(i) -> (i)>
#scalar = affine_map<(i) -> ()>
#row = affine_map<(i, j) -> (i)>
#mat = affine_map<(i, j) -> (i, j)>

// CHECK-LABEL: func.func @branches
// CHECK-SAME:    (%[[X:.*]]: tensor<4xi8>)
// CHECK:         arith.constant 0 : i8
// CHECK:         %[[HEAD:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<4xi8>)
// CHECK:         %[[EMPTY:.*]] = tensor.empty() : tensor<4x64xi8>
// CHECK-NEXT:    %[[SIDE:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<4xi8>) outs(%[[EMPTY]]
// CHECK:         %[[FILL:.*]] = linalg.generic
// CHECK-NEXT:      ^bb0
// CHECK-NEXT:      linalg.yield
// CHECK-NEXT:    } -> tensor<4xi8>
// CHECK-NEXT:    %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[SIDE]] : tensor<4x64xi8>) outs(%[[FILL]]
// CHECK:         %[[WIDE:.*]] = linalg.generic {{.*}} ins(%[[HEAD]] : tensor<4xi8>) outs(%[[EMPTY]]
// CHECK:         %[[JOIN:.*]] = linalg.generic {{.*}} ins(%[[WIDE]], %[[SUM]] : tensor<4x64xi8>, tensor<4xi8>) outs(%[[FILL]]
// CHECK:         return %[[JOIN]]
func.func @branches(%x: tensor<4xi8>) -> tensor<4xi8> {
  %zero = arith.constant 0 : i8
  %e4 = tensor.empty() : tensor<4xi8> loc("HEAD:0")
  %head = linalg.generic {indexing_maps = [#vec, #vec], iterator_types = ["parallel"]} ins(%x : tensor<4xi8>) outs(%e4 : tensor<4xi8>) {
  ^bb0(%a: i8, %o: i8):
    %n = arith.subi %zero, %a : i8
    linalg.yield %n : i8
  } -> tensor<4xi8> loc("HEAD:0")
  %e256 = tensor.empty() : tensor<4x64xi8> loc("WIDE:1")
  %wide = linalg.generic {indexing_maps = [#row, #mat], iterator_types = ["parallel", "parallel"]} ins(%head : tensor<4xi8>) outs(%e256 : tensor<4x64xi8>) {
  ^bb0(%a: i8, %o: i8):
    linalg.yield %a : i8
  } -> tensor<4x64xi8> loc("WIDE:1")
  %side = linalg.generic {indexing_maps = [#row, #mat], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4xi8>) outs(%e256 : tensor<4x64xi8>) {
  ^bb0(%a: i8, %o: i8):
    %d = arith.addi %a, %a : i8
    linalg.yield %d : i8
  } -> tensor<4x64xi8> loc("SIDE:2")
  %fill = linalg.generic {indexing_maps = [#scalar, #vec], iterator_types = ["parallel"]} ins(%zero : i8) outs(%e4 : tensor<4xi8>) {
  ^bb0(%a: i8, %o: i8):
    linalg.yield %a : i8
  } -> tensor<4xi8> loc("SUM:3")
  %sum = linalg.generic {indexing_maps = [#mat, #row], iterator_types = ["parallel", "reduction"]} ins(%side : tensor<4x64xi8>) outs(%fill : tensor<4xi8>) {
  ^bb0(%a: i8, %o: i8):
    %s = arith.addi %a, %o : i8
    linalg.yield %s : i8
  } -> tensor<4xi8> loc("SUM:3")
  %join = linalg.generic {indexing_maps = [#mat, #row, #row], iterator_types = ["parallel", "reduction"]} ins(%wide, %sum : tensor<4x64xi8>, tensor<4xi8>) outs(%fill : tensor<4xi8>) {
  ^bb0(%a: i8, %b: i8, %o: i8):
    %s = arith.addi %a, %b : i8
    %m = arith.maxsi %s, %o : i8
    linalg.yield %m : i8
  } -> tensor<4xi8> loc("JOIN:4")
  return %join : tensor<4xi8>
}

// -----

// The same graph with HEAD:0 and WIDE:1 on one tiling path: they will run
// in one loop, so they stay together, and the path's output is WIDE's
// 256 B. The other branch runs first.

#vec = affine_map<(i) -> (i)>
#scalar = affine_map<(i) -> ()>
#row = affine_map<(i, j) -> (i)>
#mat = affine_map<(i, j) -> (i, j)>

// CHECK-LABEL: func.func @path
// CHECK-SAME:    (%[[X:.*]]: tensor<4xi8>)
// CHECK:         %[[EMPTY:.*]] = tensor.empty() : tensor<4x64xi8>
// CHECK-NEXT:    %[[SIDE:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<4xi8>) outs(%[[EMPTY]]
// CHECK:         %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[SIDE]] : tensor<4x64xi8>)
// CHECK:         %[[HEAD:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<4xi8>)
// CHECK:         %[[WIDE:.*]] = linalg.generic {{.*}} ins(%[[HEAD]] : tensor<4xi8>) outs(%[[EMPTY]]
// CHECK:         %[[JOIN:.*]] = linalg.generic {{.*}} ins(%[[WIDE]], %[[SUM]] : tensor<4x64xi8>, tensor<4xi8>)
// CHECK:         return %[[JOIN]]
"fdt.path"() {family = "ffmt", axis = "h", parts = array<i64: 2>, kernels = ["HEAD:0", "WIDE:1"], roles = "ss"} : () -> ()
func.func @path(%x: tensor<4xi8>) -> tensor<4xi8> {
  %zero = arith.constant 0 : i8
  %e4 = tensor.empty() : tensor<4xi8> loc("HEAD:0")
  %head = linalg.generic {indexing_maps = [#vec, #vec], iterator_types = ["parallel"]} ins(%x : tensor<4xi8>) outs(%e4 : tensor<4xi8>) {
  ^bb0(%a: i8, %o: i8):
    %n = arith.subi %zero, %a : i8
    linalg.yield %n : i8
  } -> tensor<4xi8> loc("HEAD:0")
  %e256 = tensor.empty() : tensor<4x64xi8> loc("WIDE:1")
  %wide = linalg.generic {indexing_maps = [#row, #mat], iterator_types = ["parallel", "parallel"]} ins(%head : tensor<4xi8>) outs(%e256 : tensor<4x64xi8>) {
  ^bb0(%a: i8, %o: i8):
    linalg.yield %a : i8
  } -> tensor<4x64xi8> loc("WIDE:1")
  %side = linalg.generic {indexing_maps = [#row, #mat], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4xi8>) outs(%e256 : tensor<4x64xi8>) {
  ^bb0(%a: i8, %o: i8):
    %d = arith.addi %a, %a : i8
    linalg.yield %d : i8
  } -> tensor<4x64xi8> loc("SIDE:2")
  %fill = linalg.generic {indexing_maps = [#scalar, #vec], iterator_types = ["parallel"]} ins(%zero : i8) outs(%e4 : tensor<4xi8>) {
  ^bb0(%a: i8, %o: i8):
    linalg.yield %a : i8
  } -> tensor<4xi8> loc("SUM:3")
  %sum = linalg.generic {indexing_maps = [#mat, #row], iterator_types = ["parallel", "reduction"]} ins(%side : tensor<4x64xi8>) outs(%fill : tensor<4xi8>) {
  ^bb0(%a: i8, %o: i8):
    %s = arith.addi %a, %o : i8
    linalg.yield %s : i8
  } -> tensor<4xi8> loc("SUM:3")
  %join = linalg.generic {indexing_maps = [#mat, #row, #row], iterator_types = ["parallel", "reduction"]} ins(%wide, %sum : tensor<4x64xi8>, tensor<4xi8>) outs(%fill : tensor<4xi8>) {
  ^bb0(%a: i8, %b: i8, %o: i8):
    %s = arith.addi %a, %b : i8
    %m = arith.maxsi %s, %o : i8
    linalg.yield %m : i8
  } -> tensor<4xi8> loc("JOIN:4")
  return %join : tensor<4xi8>
}
