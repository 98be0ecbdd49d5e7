// RUN: fdt-opt-mlir %s --split-input-file --fdt-state-to-globals | FileCheck %s

// A state replaced whole (an LSTM's cell state): the argument becomes a read
// of the global @m_state0 (uninitialised: a static C array, zero), and the
// new value is copied into it after the last op that touches the old state
// or the new value (the exp), not at the end of a longer function. The
// signature loses the state argument and result.

// CHECK:       memref.global "private" @m_state0 : memref<4xf32> = uninitialized
// CHECK-LABEL: func.func @m(%arg0: memref<4xf32>) -> memref<4xf32> {
// CHECK-NEXT:    %[[S:.*]] = memref.get_global @m_state0 : memref<4xf32>
// CHECK:         linalg.add ins(%arg0, %[[S]] : {{.*}}) outs(%[[NEW:.*]] : memref<4xf32>)
// CHECK-NEXT:    linalg.exp ins(%[[NEW]] : memref<4xf32>) outs(%[[OUT:.*]] : memref<4xf32>)
// CHECK-NEXT:    %[[S2:.*]] = memref.get_global @m_state0 : memref<4xf32>
// CHECK-NEXT:    linalg.copy {{.*}}ins(%[[NEW]] : memref<4xf32>) outs(%[[S2]] : memref<4xf32>)
// CHECK-NEXT:    linalg.exp ins(%[[OUT]] : memref<4xf32>) outs(%[[OUT2:.*]] : memref<4xf32>)
// CHECK-NEXT:    return %[[OUT2]] : memref<4xf32>
func.func @m(%x: memref<4xf32>, %s: memref<4xf32> {fdt.state = 0 : i64}) -> (memref<4xf32>, memref<4xf32> {fdt.state = 0 : i64}) {
  %new = memref.alloc() : memref<4xf32>
  %out = memref.alloc() : memref<4xf32>
  %out2 = memref.alloc() : memref<4xf32>
  linalg.add ins(%x, %s : memref<4xf32>, memref<4xf32>) outs(%new : memref<4xf32>)
  linalg.exp ins(%new : memref<4xf32>) outs(%out : memref<4xf32>)
  linalg.exp ins(%out : memref<4xf32>) outs(%out2 : memref<4xf32>)
  return %out2, %new : memref<4xf32>, memref<4xf32>
}

// -----

// A result shorter along the last axis (an SVDF's new column, here a view of
// the model output, so stored before the return): the state's last axis
// shifts by one towards 0 in place (the copy's loops read each element
// before they overwrite it), then the column fills the last place.

// CHECK:       memref.global "private" @m_state0 : memref<2x3xi16> = uninitialized
// CHECK-LABEL: func.func @m(%arg0: memref<2xi16>) -> memref<2xi16> {
// CHECK:         %[[COL:.*]] = memref.expand_shape %arg0
// CHECK-NEXT:    %[[S:.*]] = memref.get_global @m_state0 : memref<2x3xi16>
// CHECK-NEXT:    %[[FROM:.*]] = memref.subview %[[S]][0, 1] [2, 2] [1, 1] : memref<2x3xi16> to memref<2x2xi16, strided<[3, 1], offset: 1>>
// CHECK-NEXT:    %[[TO:.*]] = memref.subview %[[S]][0, 0] [2, 2] [1, 1] : memref<2x3xi16> to memref<2x2xi16, strided<[3, 1]>>
// CHECK-NEXT:    linalg.copy {{.*}}ins(%[[FROM]] : {{.*}}) outs(%[[TO]] : {{.*}})
// CHECK-NEXT:    %[[END:.*]] = memref.subview %[[S]][0, 2] [2, 1] [1, 1] : memref<2x3xi16> to memref<2x1xi16, strided<[3, 1], offset: 2>>
// CHECK-NEXT:    linalg.copy {{.*}}ins(%[[COL]] : memref<2x1xi16>) outs(%[[END]] : {{.*}})
// CHECK-NEXT:    return %arg0 : memref<2xi16>
func.func @m(%x: memref<2xi16>, %s: memref<2x3xi16> {fdt.state = 0 : i64}) -> (memref<2xi16>, memref<2x1xi16> {fdt.state = 0 : i64}) {
  %col = memref.expand_shape %x [[0, 1]] output_shape [2, 1] : memref<2xi16> into memref<2x1xi16>
  return %x, %col : memref<2xi16>, memref<2x1xi16>
}

// -----

// An int8 state that starts at its zero point (`fdt.state_start`, as TFLM
// resets an int8 variable tensor): the global holds it in every element.

// CHECK:       memref.global "private" @q_state0 : memref<4xi8> = dense<-3>
// CHECK-LABEL: func.func @q(%arg0: memref<4xi8>) -> memref<4xi8> {
func.func @q(%x: memref<4xi8>, %s: memref<4xi8> {fdt.state = 0 : i64, fdt.state_start = -3 : i64}) -> (memref<4xi8>, memref<4xi8> {fdt.state = 0 : i64}) {
  %new = memref.alloc() : memref<4xi8>
  linalg.add ins(%x, %s : memref<4xi8>, memref<4xi8>) outs(%new : memref<4xi8>)
  return %new, %new : memref<4xi8>, memref<4xi8>
}
