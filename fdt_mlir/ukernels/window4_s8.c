/* fdt_window4_s8: four channels of a depthwise window at once. For k < 4,
 * acc[k] += sum over r < rows, q < cols of
 *   (a[a_base + r * a_row + q * a_col + k] + a_offset)
 *     * (b[b_base + r * b_row + q * b_col + k] + b_offset),
 * in wrapping 32-bit arithmetic, exactly as the four loops it replaces.
 * With the DSP extension, each window tap takes two word loads, four
 * extensions and four 16x16 MACs (SMLABB, SMLATT) for the four channels. */
static inline void fdt_window4_s8(int32_t *acc, const int8_t *a, size_t a_base, size_t a_row, size_t a_col,
                                  const int8_t *b, size_t b_base, size_t b_row, size_t b_col, size_t rows,
                                  size_t cols, int32_t a_offset, int32_t b_offset)
{
  uint32_t s0 = (uint32_t)acc[0], s1 = (uint32_t)acc[1], s2 = (uint32_t)acc[2], s3 = (uint32_t)acc[3];
#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__)
  const int32_t ao = fdt_s16x2(a_offset), bo = fdt_s16x2(b_offset);
#endif
  for (size_t r = 0; r < rows; r++) {
    const int8_t *x = a + a_base + r * a_row;
    const int8_t *y = b + b_base + r * b_row;
    for (size_t q = 0; q < cols; q++, x += a_col, y += b_col) {
#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__)
      int32_t xv, yv;
      memcpy(&xv, x, 4);
      memcpy(&yv, y, 4);
      const int32_t xe = fdt_even_s16x2(ao, xv), ye = fdt_even_s16x2(bo, yv);
      const int32_t xo = fdt_odd_s16x2(ao, xv), yo = fdt_odd_s16x2(bo, yv);
      s0 = (uint32_t)__smlabb(xe, ye, (int32_t)s0);
      s2 = (uint32_t)__smlatt(xe, ye, (int32_t)s2);
      s1 = (uint32_t)__smlabb(xo, yo, (int32_t)s1);
      s3 = (uint32_t)__smlatt(xo, yo, (int32_t)s3);
#else
      s0 += (uint32_t)((int32_t)x[0] + a_offset) * (uint32_t)((int32_t)y[0] + b_offset);
      s1 += (uint32_t)((int32_t)x[1] + a_offset) * (uint32_t)((int32_t)y[1] + b_offset);
      s2 += (uint32_t)((int32_t)x[2] + a_offset) * (uint32_t)((int32_t)y[2] + b_offset);
      s3 += (uint32_t)((int32_t)x[3] + a_offset) * (uint32_t)((int32_t)y[3] + b_offset);
#endif
    }
  }
  acc[0] = (int32_t)s0;
  acc[1] = (int32_t)s1;
  acc[2] = (int32_t)s2;
  acc[3] = (int32_t)s3;
}
