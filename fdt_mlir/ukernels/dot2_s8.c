/* fdt_dot2_s8: two output channels of a conv or dense layer at once, on
 * one input. For k < 2, acc[k] += sum over r < rows, i < n of
 *   (a[a_base + r * a_row + i] + a_offset)
 *     * (b[b_base + k * b_channel + r * b_row + i] + b_offset),
 * in wrapping 32-bit arithmetic, exactly as the loops it replaces. With the
 * DSP extension each input word is loaded and extended once for both
 * channels: eight MACs take three word loads, six extensions and four
 * dual MACs (SMLAD). */
static inline void fdt_dot2_s8(int32_t *acc, const int8_t *a, size_t a_base, size_t a_row, const int8_t *b,
                               size_t b_base, size_t b_row, size_t b_channel, size_t rows, size_t n,
                               int32_t a_offset, int32_t b_offset)
{
  uint32_t s0 = (uint32_t)acc[0], s1 = (uint32_t)acc[1];
#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__)
  const int32_t ao = fdt_s16x2(a_offset), bo = fdt_s16x2(b_offset);
#endif
  for (size_t r = 0; r < rows; r++) {
    const int8_t *x = a + a_base + r * a_row;
    const int8_t *y = b + b_base + r * b_row;
    const int8_t *z = y + b_channel;
    size_t i = n;
#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__)
    for (; i >= 4; i -= 4, x += 4, y += 4, z += 4) {
      int32_t xv, yv, zv;
      memcpy(&xv, x, 4);
      memcpy(&yv, y, 4);
      memcpy(&zv, z, 4);
      const int32_t xe = fdt_even_s16x2(ao, xv), xo = fdt_odd_s16x2(ao, xv);
      s0 = (uint32_t)__smlad(xe, fdt_even_s16x2(bo, yv), (int32_t)s0);
      s0 = (uint32_t)__smlad(xo, fdt_odd_s16x2(bo, yv), (int32_t)s0);
      s1 = (uint32_t)__smlad(xe, fdt_even_s16x2(bo, zv), (int32_t)s1);
      s1 = (uint32_t)__smlad(xo, fdt_odd_s16x2(bo, zv), (int32_t)s1);
    }
#endif
    for (; i; i--, x++, y++, z++) {
      const uint32_t xv = (uint32_t)((int32_t)*x + a_offset);
      s0 += xv * (uint32_t)((int32_t)*y + b_offset);
      s1 += xv * (uint32_t)((int32_t)*z + b_offset);
    }
  }
  acc[0] = (int32_t)s0;
  acc[1] = (int32_t)s1;
}
