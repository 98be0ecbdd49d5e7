/* fdt_apply_scale: TOSA's apply_scale, the requantization of an int32
 * accumulator: (value * multiplier + round) >> shift in 64-bit arithmetic,
 * round = 2^(shift-1), and with double rounding 2^30 more (less for a
 * negative value) when shift > 31; 2 <= shift <= 62. Exactly the arithmetic
 * TOSA's lowering spells out, but for shift >= 32 (TFLite's usual scales) it
 * builds the rounding constant from two words and shifts the high word of
 * the sum only, instead of 64-bit shifts by a variable amount, which a
 * 32-bit core does in a dozen instructions with branches. */
static inline int32_t fdt_apply_scale(int32_t value, int32_t multiplier, int32_t shift, int32_t double_round)
{
  const int64_t product = (int64_t)value * multiplier;
  if (shift >= 32) {
    const uint32_t round_high = shift > 32 ? 1u << (shift - 33) : 0u;
    const uint32_t round_low = shift == 32 ? 0x80000000u : 0u;
    int64_t round = (int64_t)(((uint64_t)round_high << 32) | round_low);
    if (double_round)
      round += value >= 0 ? (int64_t)1 << 30 : -((int64_t)1 << 30);
    return (int32_t)((product + round) >> 32) >> (shift - 32);
  }
  return (int32_t)((product + ((int64_t)1 << (shift - 1))) >> shift);
}
