/* fdt_dot_s8: acc + sum over k < n of (a[k] + a_offset) * (b[k] + b_offset),
 * in wrapping 32-bit arithmetic, exactly as the int8 multiply-accumulate loop
 * it replaces. The offsets are the zero points the loop subtracts; each
 * a[k] + offset must fit in 16 bits (the compiler checks).
 *
 * With the Arm DSP extension (Cortex-M4, M7, M33, ...), four MACs take two
 * word loads, four 16-bit extensions that add the offsets on the way and two
 * dual MACs (SMLAD), as CMSIS-NN's kernels do; elsewhere a plain C loop. */

static inline int32_t fdt_dot_s8(int32_t acc, const int8_t *a, size_t a_base, const int8_t *b, size_t b_base,
                                 size_t n, int32_t a_offset, int32_t b_offset)
{
  uint32_t sum = (uint32_t)acc;
  a += a_base;
  b += b_base;
#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__)
  const int32_t ao = fdt_s16x2(a_offset), bo = fdt_s16x2(b_offset);
  for (; n >= 8; n -= 8, a += 8, b += 8) {
    int32_t x, y, z, w;
    memcpy(&x, a, 4);
    memcpy(&y, b, 4);
    memcpy(&z, a + 4, 4);
    memcpy(&w, b + 4, 4);
    sum = (uint32_t)__smlad(fdt_even_s16x2(ao, x), fdt_even_s16x2(bo, y), (int32_t)sum);
    sum = (uint32_t)__smlad(fdt_odd_s16x2(ao, x), fdt_odd_s16x2(bo, y), (int32_t)sum);
    sum = (uint32_t)__smlad(fdt_even_s16x2(ao, z), fdt_even_s16x2(bo, w), (int32_t)sum);
    sum = (uint32_t)__smlad(fdt_odd_s16x2(ao, z), fdt_odd_s16x2(bo, w), (int32_t)sum);
  }
  if (n >= 4) {
    int32_t x, y;
    memcpy(&x, a, 4);
    memcpy(&y, b, 4);
    sum = (uint32_t)__smlad(fdt_even_s16x2(ao, x), fdt_even_s16x2(bo, y), (int32_t)sum);
    sum = (uint32_t)__smlad(fdt_odd_s16x2(ao, x), fdt_odd_s16x2(bo, y), (int32_t)sum);
    n -= 4;
    a += 4;
    b += 4;
  }
#endif
  for (; n; n--, a++, b++) {
    sum += (uint32_t)((int32_t)*a + a_offset) * (uint32_t)((int32_t)*b + b_offset);
  }
  return (int32_t)sum;
}
