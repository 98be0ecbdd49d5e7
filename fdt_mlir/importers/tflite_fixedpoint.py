"""gemmlowp's fixed-point functions, as TFLM's int8 kernels call them.

TFLM's int8 SOFTMAX, LOGISTIC and TANH evaluate exp, 1/(1+x) and friends in
gemmlowp's FixedPoint<int32_t, IntegerBits> arithmetic. Each of those values
depends on one int8 input (or one int8 difference), so the importer runs the
same arithmetic here, in numpy int64 arrays holding int32 values, to build
tables at compile time. Function names follow gemmlowp's fixedpoint.h; a raw
value with I integer bits stands for raw / 2^(31 - I).
"""

import numpy as np

from .tflite_quant import (
    INT32_MAX,
    INT32_MIN,
    input_radius,
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    quantize_multiplier_frexp,
    rounding_divide_by_pot,
)
from .tflite_quant import saturating_rounding_doubling_high_mul as mul


def saturating_rounding_multiply_by_pot(x, exponent: int):
    """SaturatingRoundingMultiplyByPOT<exponent>: the rescaling between formats."""
    x = np.asarray(x, dtype=np.int64)
    if exponent <= 0:
        return rounding_divide_by_pot(x, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    return np.where(x > threshold, INT32_MAX, np.where(x < -threshold, INT32_MIN, x << exponent))


def rounding_half_sum(a, b):
    """RoundingHalfSum: (a + b) / 2 rounded half away from zero, in 64 bits."""
    total = np.asarray(a, dtype=np.int64) + b
    total = total + np.where(total >= 0, 1, -1)
    return np.where(total >= 0, total >> 1, -((-total) >> 1))  # C division truncates


def _exp_on_interval_between_negative_one_quarter_and_0_excl(a):
    """Q0.31 in, Q0.31 out: a Taylor expansion around -1/8."""
    constant_term = 1895147668  # exp(-1/8)
    constant_1_over_3 = 715827883
    x = a + (1 << 28)
    x2 = mul(x, x)
    x3 = mul(x2, x)
    x4 = mul(x2, x2)
    x4_over_4 = saturating_rounding_multiply_by_pot(x4, -2)
    poly = saturating_rounding_multiply_by_pot(mul(x4_over_4 + x3, constant_1_over_3) + x2, -1)
    return constant_term + mul(constant_term, x + poly)


# exp(-2^k) in Q0.31 for the barrel shifter of exp_on_negative_values.
_EXP_BARREL = {-2: 1672461947, -1: 1302514674, 0: 790015084, 1: 290630308, 2: 39332535, 3: 720401, 4: 242}


def exp_on_negative_values(a, integer_bits: int):
    """exp(a) for a <= 0 given with `integer_bits` integer bits; Q0.31 result."""
    a = np.asarray(a, dtype=np.int64)
    fractional_bits = 31 - integer_bits
    one_quarter = 1 << (fractional_bits - 2)
    a_mod_quarter_minus_one_quarter = (a & (one_quarter - 1)) - one_quarter
    result = _exp_on_interval_between_negative_one_quarter_and_0_excl(
        saturating_rounding_multiply_by_pot(a_mod_quarter_minus_one_quarter, integer_bits)
    )
    remainder = a_mod_quarter_minus_one_quarter - a
    for exponent, multiplier in _EXP_BARREL.items():
        if integer_bits > exponent:
            bit = (remainder >> (fractional_bits + exponent)) & 1
            result = np.where(bit != 0, mul(result, multiplier), result)
    if integer_bits > 5:
        result = np.where(a < -(1 << (36 - integer_bits)), 0, result)
    return np.where(a == 0, INT32_MAX, result)


def _newton_reciprocal(half_denominator):
    """The Q2.29 Newton-Raphson iteration for 1/half_denominator shared by
    one_over_one_plus_x_for_x_in_0_1 and one_minus_x_over_one_plus_x_for_x_in_0_1."""
    x = 1515870810 + mul(half_denominator, -1010580540)  # 48/17 - 32/17 * d
    for _ in range(3):
        one_minus_half_denominator_times_x = (1 << 29) - mul(half_denominator, x)
        x = x + saturating_rounding_multiply_by_pot(mul(x, one_minus_half_denominator_times_x), 2)
    return x


def one_over_one_plus_x_for_x_in_0_1(a):
    """1 / (1 + a) for a in [0, 1), Q0.31 in and out."""
    x = _newton_reciprocal(rounding_half_sum(a, INT32_MAX))
    return saturating_rounding_multiply_by_pot(x, 1)  # Rescale<0>(ExactMulByPot<-1>(x))


def one_minus_x_over_one_plus_x_for_x_in_0_1(a):
    """(1 - a) / (1 + a) for a in [0, 1), Q0.31 in and out."""
    x = _newton_reciprocal(rounding_half_sum(a, INT32_MAX))
    return saturating_rounding_multiply_by_pot(x - (1 << 29), 2)


def logistic(a, integer_bits: int):
    """gemmlowp::logistic: Q0.31 result."""
    a = np.asarray(a, dtype=np.int64)
    positive = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(-np.abs(a), integer_bits))
    result = np.where(a > 0, positive, INT32_MAX - positive)
    return np.where(a == 0, 1 << 30, result)


def tanh(a, integer_bits: int):
    """gemmlowp::tanh: Q0.31 result; the exp takes -2|a| as one more integer bit."""
    a = np.asarray(a, dtype=np.int64)
    t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(-np.abs(a), integer_bits + 1))
    result = np.where(a < 0, -t, t)
    return np.where(a == 0, 0, result)


# TFLM's kScaledDiffIntegerBits (SOFTMAX) and kInputIntegerBits (LOGISTIC, TANH).
SOFTMAX_DIFF_INTEGER_BITS = 5
ACTIVATION_INPUT_INTEGER_BITS = 4


def softmax_scaling(beta: float, input_scale) -> tuple[int, int, int]:
    """TFLM's int8 SOFTMAX Prepare (PreprocessSoftmaxScaling, then
    CalculateInputRadius): (input_beta_multiplier, left_shift, diff_min)."""
    bits = SOFTMAX_DIFF_INTEGER_BITS
    real = min(float(beta) * float(np.float32(input_scale)) * (1 << (31 - bits)), (1 << 31) - 1.0)
    multiplier, left_shift = quantize_multiplier(real)
    return multiplier, left_shift, -input_radius(bits, left_shift)


def softmax_exp_table(beta: float, input_scale) -> np.ndarray:
    """int32[256]: entry k is exp_on_negative_values of the rescaled
    difference x - max(x) = -k, as TFLM's int8 SOFTMAX computes it, or 0 for
    differences below diff_min (TFLM skips them; a 0 adds nothing to the sum
    and gives the same output, the int8 minimum)."""
    multiplier, left_shift, diff_min = softmax_scaling(beta, input_scale)
    diff = -np.arange(256, dtype=np.int64)
    keep = diff >= diff_min
    rescaled = multiply_by_quantized_multiplier(np.where(keep, diff, 0), multiplier, left_shift)
    exp = exp_on_negative_values(rescaled, SOFTMAX_DIFF_INTEGER_BITS)
    return np.where(keep, exp, 0).astype(np.int32)


def activation_table(kind: str, input_scale, input_zero_point) -> np.ndarray:
    """int8[256] table of TFLM's int8 LOGISTIC or TANH kernel, indexed by the
    input + 128 (tosa.table's order): the input rescaled to Q4.27 with a
    frexp multiplier, saturated beyond CalculateInputRadius, gemmlowp's
    logistic or tanh, then rounded to Q0.7 (tanh) or Q0.8 minus 128
    (logistic, whose output zero point TFLM requires to be -128)."""
    bits = ACTIVATION_INPUT_INTEGER_BITS
    multiplier, left_shift = quantize_multiplier_frexp(float(np.float32(input_scale)) * (1 << (31 - bits)))
    radius = input_radius(bits, left_shift)
    x = np.arange(-128, 128, dtype=np.int64) - int(input_zero_point)
    inside = (x > -radius) & (x < radius)
    q4 = multiply_by_quantized_multiplier(np.where(inside, x, 0), multiplier, left_shift)
    if kind == "LOGISTIC":
        y = rounding_divide_by_pot(logistic(q4, bits), 23) - 128
    else:
        y = rounding_divide_by_pot(tanh(q4, bits), 24)
    y = np.where(x <= -radius, -128, np.where(x >= radius, 127, y))
    return np.clip(y, -128, 127).astype(np.int8)


def _int16_doubling_high_mul(a, b, rounding: bool):
    """gemmlowp's SaturatingRoundingDoublingHighMul on int16 (rounding), or
    TFLM's SaturatingDoublingHighMul (truncating): a * b / 2^15."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    ab = a * b
    if rounding:
        ab = ab + np.where(ab >= 0, 1 << 14, 1 - (1 << 14))
    high = np.where(ab >= 0, ab >> 15, -((-ab) >> 15))  # C division truncates
    return np.where((a == -32768) & (b == -32768), 32767, high)


def _int16_saturating_left_shift(x, amount: int):
    return np.clip(np.asarray(x, dtype=np.int64) << amount, -32768, 32767)


def _int16_multiplier(multiplier: int) -> int:
    """TFLite's DownScaleInt32ToInt16Multiplier."""
    return 32767 if multiplier >= INT32_MAX - (1 << 15) else (multiplier + (1 << 15)) >> 16


def hard_swish_table(input_scale, input_zero_point, output_scale, output_zero_point) -> np.ndarray:
    """int8[256] table of TFLM's int8 HARD_SWISH kernel, indexed by the input
    + 128: its int16 fixed-point arithmetic, x on a "hires" scale (input
    scale / 128) times a "relu-ish" factor in [0, 1] that is x + 3 rescaled
    from [-3, 3], both multipliers from float32 scales as its Prepare does."""
    hires_scale = np.float32(1.0 / 128.0) * np.float32(input_scale)
    output_multiplier, output_exponent = quantize_multiplier(float(hires_scale / np.float32(output_scale)))
    reluish_multiplier, reluish_exponent = quantize_multiplier(float(hires_scale / np.float32(3.0 / 32768.0)))
    output_fixed, reluish_fixed = _int16_multiplier(output_multiplier), _int16_multiplier(reluish_multiplier)
    hires = (np.arange(-128, 128, dtype=np.int64) - int(input_zero_point)) * (1 << 7)
    preshift_output = _int16_doubling_high_mul(hires, output_fixed, rounding=True)
    reluish = hires
    if reluish_exponent > 0:
        reluish = _int16_saturating_left_shift(reluish, reluish_exponent - 1)
    reluish = _int16_doubling_high_mul(reluish, reluish_fixed, rounding=True)
    if reluish_exponent > 0:
        reluish = _int16_saturating_left_shift(reluish, 1)
    if reluish_exponent < 0:
        reluish = rounding_divide_by_pot(reluish, -reluish_exponent)
    reluish = (reluish + (1 << 15)) >> 1
    preshift = _int16_doubling_high_mul(reluish, preshift_output, rounding=False)
    output = rounding_divide_by_pot(preshift, -output_exponent)
    return np.clip(output + int(output_zero_point), -128, 127).astype(np.int8)


def lookup_table(transform, input_scale, input_zero_point, output_scale, output_zero_point) -> np.ndarray:
    """int8[256] table of TFLM's PopulateLookupTable, indexed by the input +
    128: each input dequantized in float32, transformed, times 1 / output
    scale, rounded half away from zero, plus the output zero point, clamped."""
    f32 = np.float32
    x = np.arange(-128, 128, dtype=np.int64)
    dequantized = f32(input_scale) * (x - int(input_zero_point)).astype(f32)
    scaled = (transform(dequantized) * (f32(1.0) / f32(output_scale))).astype(np.float64)
    rounded = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)  # std::round; exact in double
    return np.clip(rounded.astype(np.int64) + int(output_zero_point), -128, 127).astype(np.int8)


def elu(x: np.ndarray) -> np.ndarray:
    """The transform of TFLM's int8 ELU table, in float32: x < 0 ? exp(x) - 1
    : x (its float kernel calls expm1)."""
    return np.where(x < 0, np.exp(x) - np.float32(1.0), x).astype(np.float32)


def inv_sqrt_multiplier_exp(value: int) -> tuple[int, int]:
    """TFLite's GetInvSqrtQuantizedMultiplierExp(value, reverse_shift=-1):
    1 / sqrt(value) as a multiplier and a (left) shift, by five
    Newton-Raphson steps in gemmlowp's Q3.28 from a start of 1."""
    if value <= 1:
        return INT32_MAX, 0
    shift = 11
    while value >= 1 << 29:
        value //= 4
        shift += 1
    pairs = (32 - value.bit_length() - 1) // 2 - 1  # CountLeadingZeros(value) - 1, in bit pairs, less one
    shift -= pairs
    value <<= 2 * pairs
    half_input = rounding_divide_by_pot(value >> 1, 1)
    half_three = (1 << 28) + (1 << 27)
    x = np.int64(1 << 28)
    for _ in range(5):
        x3 = saturating_rounding_multiply_by_pot(mul(mul(x, x), x), 6)
        x = saturating_rounding_multiply_by_pot(mul(half_three, x) - mul(half_input, x3), 3)
    x = int(mul(x, 1518500250))
    if shift < 0:
        x, shift = x << -shift, 0
    return x, -shift


def rsqrt_table(input_scale, input_zero_point, output_scale, output_zero_point) -> np.ndarray:
    """int8[256] table of TFLM's int8 RSQRT, indexed by the input + 128: of
    v = input - zero point, 127 for 0, else 1 / sqrt(v) as an inverse-sqrt
    multiplier at 2^20, rescaled by 1 / (sqrt(input scale) * output scale).
    TFLM fails on inputs below the zero point: their entries are 0."""
    f32 = np.float32
    multiplier, shift = quantize_multiplier(1.0 / float(np.sqrt(f32(input_scale)) * f32(output_scale)))
    table = np.zeros(256, dtype=np.int8)
    for v in range(0, 128 - int(input_zero_point)):
        if v == 0:
            table[int(input_zero_point) + 128] = 127
            continue
        m, s = inv_sqrt_multiplier_exp(v)
        scaled = multiply_by_quantized_multiplier(1, m, s + 20)
        out = multiply_by_quantized_multiplier(scaled, multiplier, shift - 20) + int(output_zero_point)
        table[v + int(input_zero_point) + 128] = np.clip(out, -128, 127)
    return table


# TFLite's sigmoid_table_uint16 (common.h): sigmoid(i / 24) in 0.16, as
# TFLite lists it (a few entries are one above the nearest value). TFLM's
# int16 LOGISTIC and TANH, and so its integer LSTM gates, interpolate in it.
SIGMOID_TABLE_UINT16 = np.asarray(
    [
        *[32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064],
        *[42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464],
        *[50942, 51409, 51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503],
        *[56823, 57133, 57433, 57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370],
        *[60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666],
        *[62778, 62886, 62990, 63090, 63186, 63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968],
        *[64030, 64090, 64148, 64204, 64257, 64308, 64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687],
        *[64721, 64754, 64786, 64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079],
        *[65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258, 65269, 65280, 65291],
        *[65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367, 65374, 65381, 65387, 65393, 65399, 65404],
        *[65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465],
        *[65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498],
        *[65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516],
        *[65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524, 65525, 65525],
        *[65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530, 65530],
        *[65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533],
        *[65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534],
        65535,
    ],
    dtype=np.int32,
)
