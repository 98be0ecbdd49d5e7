"""UNIDIRECTIONAL_SEQUENCE_LSTM and SVDF layers as TFLM runs them.

These operators take many inputs (weights, biases, variable state tensors)
and, in int8, scales that must fit each other for TFLM's integer kernels.
The operator tests and the random networks both build them here, so both
exercise the same valid layers.
"""

import numpy as np


def sequence_lstm_layer(b, rng, x, shape, units, time_major=False, cell_clip=0.0) -> int:
    """A float32 UNIDIRECTIONAL_SEQUENCE_LSTM of `x` (of `shape`) with its 24
    inputs: 4 input and 4 recurrent weights, no peepholes, 4 biases, no
    projection, the two variable state tensors, no layer norm. Returns its
    output."""
    batch = shape[1] if time_major else shape[0]
    features = shape[2]
    w_x = [b.const(rng.normal(0, 0.5, (units, features)).astype(np.float32)) for _ in range(4)]
    w_h = [b.const(rng.normal(0, 0.5, (units, units)).astype(np.float32)) for _ in range(4)]
    bias = [b.const(rng.normal(0, 0.2, units).astype(np.float32)) for _ in range(4)]
    h = b.tensor((batch, units), np.float32, variable=True)
    c = b.tensor((batch, units), np.float32, variable=True)
    y = b.tensor((*shape[:2], units), np.float32)
    inputs = [x, *w_x, *w_h, -1, -1, -1, *bias, -1, -1, h, c, -1, -1, -1, -1]
    b.op("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [y], time_major=time_major, cell_clip=cell_clip)
    return y


def sequence_lstm_int8_layer(
    b,
    rng,
    x,
    x_scale,
    shape,
    units,
    h_q,
    time_major=False,
    power=-11,
    cell_clip=0.0,
    gain=1.5,
    dtype=np.int8,
    layer_norm=False,
    per_channel=False,
) -> int:
    """TFLM's 8x8->16 UNIDIRECTIONAL_SEQUENCE_LSTM of `x` (of `shape`,
    quantized with `x_scale`): hidden state and output quantized alike
    (`h_q`), as converters write them, int8 weights with per-tensor scales,
    int32 biases, an int16 cell state at the scale 2^`power`. Weight scales
    are drawn so that the gate pre-activations (int16 at 2^-12) spread over
    about `gain` units per FC (6: some saturate the int16 sum and the tanh
    table). Returns the output."""
    batch = shape[1] if time_major else shape[0]
    features = shape[2]

    def weights(depth, in_scale):
        w_scale = float(rng.uniform(0.67, 1.33)) * gain / (np.sqrt(depth) * in_scale * 74 * 74)
        data = rng.integers(-127, 128, (units, depth), dtype=np.int8)
        return b.const(data, scale=np.full(units, w_scale) if per_channel else w_scale), w_scale

    w_x = [weights(features, x_scale) for _ in range(4)]
    w_h = [weights(units, h_q["scale"]) for _ in range(4)]
    bias = [b.const((rng.normal(0, 0.5, units) / (x_scale * s)).astype(np.int32), scale=x_scale * s) for _, s in w_x]
    h = b.tensor((batch, units), dtype, variable=True, **h_q)
    c = b.tensor((batch, units), np.int16, variable=True, scale=2.0**power)
    norms = [b.const(np.full(units, 1 << 10, np.int16), scale=1 / 1024) for _ in range(4)] if layer_norm else [-1] * 4
    y = b.tensor((*shape[:2], units), dtype, **h_q)
    inputs = [x, *[t for t, _ in w_x], *[t for t, _ in w_h], -1, -1, -1, *bias, -1, -1, h, c, *norms]
    b.op("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [y], time_major=time_major, cell_clip=cell_clip)
    return y


def svdf_layer(
    b, rng, x, x_q, shape, units, memory, rank, activation="NONE", state_dtype=np.int16, state_zero_point=0
) -> tuple[int, dict]:
    """An SVDF of `x` (of `shape`: batch, depth): feature weights (units *
    rank, depth), time weights (units * rank, memory), bias, the variable
    state (batch, units * rank * memory). With `x_q` (int8): TFLM's
    full-integer SVDF, scales drawn so that the state and the output use
    their ranges for inputs over the whole int8 range. Returns the output
    and its quantization ({} in float32)."""
    batch, depth = shape
    filters = units * rank
    if not x_q:
        w_f = b.const(rng.normal(0, 0.5, (filters, depth)).astype(np.float32))
        w_t = b.const(rng.normal(0, 0.5, (filters, memory)).astype(np.float32))
        bias = b.const(rng.normal(0, 0.2, units).astype(np.float32))
        state = b.tensor((batch, filters * memory), np.float32, variable=True)
        y, y_q = b.tensor((batch, units), np.float32), {}
    else:
        f_scale = float(rng.uniform(0.005, 0.02))
        state_range = np.iinfo(state_dtype).max / 3  # a state code of about a third of the range
        s_scale = x_q["scale"] * f_scale * 128 * 74 * np.sqrt(depth) / state_range
        t_scale = float(rng.uniform(1e-5, 1e-4))
        t_max = 1 << 14 if state_dtype == np.int16 else 127
        # The output covers about three times the typical sum of rank terms.
        y_scale = s_scale * t_scale * state_range * t_max / 2 * np.sqrt(rank) * 3 / 127
        w_f = b.const(rng.integers(-127, 128, (filters, depth), dtype=np.int8), scale=f_scale)
        w_t = b.const(rng.integers(-t_max, t_max + 1, (filters, memory)).astype(state_dtype), scale=t_scale)
        bias_scale = float(np.float32(s_scale) * np.float32(t_scale))
        bias_max = int(state_range * t_max / 4)
        bias = b.const(rng.integers(-bias_max, bias_max, units, dtype=np.int32), scale=bias_scale)
        state = b.tensor(
            (batch, filters * memory), state_dtype, variable=True, scale=s_scale, zero_point=state_zero_point
        )
        y_q = {"scale": float(y_scale), "zero_point": int(rng.integers(-10, 11))}
        y = b.tensor((batch, units), np.int8, **y_q)
    b.op("SVDF", [x, w_f, w_t, bias, state], [y], rank=rank, activation=activation)
    return y, y_q
