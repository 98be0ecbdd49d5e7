"""TFLite's integer requantization arithmetic, reproduced exactly.

The generated code must be bit-exact against the TFLM reference kernels, so
multipliers are derived from the flatbuffer's float32 scales with the same
double-precision steps TFLM takes at Prepare time. The gemmlowp fixed-point
functions of the int8 SOFTMAX, LOGISTIC and TANH kernels are in
`tflite_fixedpoint`.
"""

import math

import numpy as np

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier: real = multiplier * 2^(shift - 31)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = round_half_away(q * (1 << 31))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 30:
        raise ValueError(f"requantization scale {real} is too large")
    return int(q_fixed), shift


def quantize_multiplier_frexp(real: float) -> tuple[int, int]:
    """The multiplier of TFLM's int8 LOGISTIC/TANH Prepare: frexp and round,
    without QuantizeMultiplier's renormalisation of a rounded-up 2^31."""
    q, shift = math.frexp(real)
    return round_half_away(q * (1 << 31)), shift


def input_radius(integer_bits: int, left_shift: int) -> int:
    """TFLite's CalculateInputRadius (31 signed bits): the largest input
    magnitude whose rescaled value still fits the fixed-point format."""
    return math.floor(((1 << integer_bits) - 1) * (1 << (31 - integer_bits)) / (1 << left_shift))


def round_half_away(x: float) -> int:
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def mean_multiplier(input_scale, output_scale, count: int) -> tuple[int, int]:
    """QuantizedMeanOrSum's multiplier of an int8 MEAN over `count` values:
    input / output scale, with 1 / count folded in by an integer division
    after a left shift of up to floor(log2(count)) bits."""
    multiplier, shift = quantize_multiplier(float(np.float32(input_scale)) / float(np.float32(output_scale)))
    extra = min(count.bit_length() - 1, 32, 31 + shift)
    return (multiplier << extra) // count, shift - extra


def conv_multipliers(input_scale, filter_scales, output_scale, channels):
    """Per-channel (or broadcast per-tensor) multipliers of CONV_2D/DEPTHWISE."""
    scales = np.asarray(filter_scales, dtype=np.float32)
    if scales.size == 1:
        scales = np.repeat(scales, channels)
    pairs = [
        quantize_multiplier(float(np.float32(input_scale)) * float(s) / float(np.float32(output_scale))) for s in scales
    ]
    return [m for m, _ in pairs], [s for _, s in pairs]


def fully_connected_multiplier(input_scale, filter_scale, output_scale):
    """TFLM's GetQuantizedConvolutionMultipler: the scale product is float32."""
    product = float(np.float32(input_scale) * np.float32(filter_scale))
    return quantize_multiplier(product / float(np.float32(output_scale)))


def float32_multiplier(scale, other_scale, output_scale):
    """QuantizeMultiplier of scale * other scale / output scale, all in
    float32, as TFLM's SVDF Prepare computes its effective scales."""
    f32 = np.float32
    return quantize_multiplier(float(f32(scale) * f32(other_scale) / f32(output_scale)))


def tosa_rescale_params(multiplier: int, shift: int) -> tuple[int, int]:
    """TFLite (multiplier, exponent) as TOSA (multiplier, right shift)."""
    return multiplier, 31 - shift


def saturating_rounding_doubling_high_mul(a, b):
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    overflow = (a == INT32_MIN) & (b == INT32_MIN)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    # C++ integer division truncates towards zero.
    q = ab + nudge
    res = np.where(q >= 0, q >> 31, -((-q) >> 31))
    return np.where(overflow, INT32_MAX, res).astype(np.int64)


def rounding_divide_by_pot(x, exponent):
    x = np.asarray(x, dtype=np.int64)
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def multiply_by_quantized_multiplier(x, multiplier, shift):
    """TFLite's MultiplyByQuantizedMultiplier (double rounding)."""
    left = max(shift, 0)
    right = max(-shift, 0)
    x = np.asarray(x, dtype=np.int64) * (1 << left)
    x = ((x + (1 << 31)) % (1 << 32)) - (1 << 31)  # int32 wrap, as in C++
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, multiplier), right)
