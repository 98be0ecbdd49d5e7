/* fdt_dot2_f32: two output channels of a float32 conv or dense layer at
 * once, on one input. For k < 2, acc[k] += sum over r < rows, i < n of
 * a[a_base + r * a_row + i] * b[b_base + k * b_channel + r * b_row + i],
 * added in order of (r, i) as the loops it replaces, so with the same
 * rounding. Each input element is loaded once for both channels. */
static inline void fdt_dot2_f32(float *acc, const float *a, size_t a_base, size_t a_row, const float *b,
                                size_t b_base, size_t b_row, size_t b_channel, size_t rows, size_t n)
{
  float s0 = acc[0], s1 = acc[1];
  for (size_t r = 0; r < rows; r++) {
    const float *x = a + a_base + r * a_row;
    const float *y = b + b_base + r * b_row;
    const float *z = y + b_channel;
    for (size_t i = 0; i < n; i++) {
      s0 += x[i] * y[i];
      s1 += x[i] * z[i];
    }
  }
  acc[0] = s0;
  acc[1] = s1;
}
