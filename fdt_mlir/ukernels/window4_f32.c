/* fdt_window4_f32: four channels of a float32 depthwise window at once. For
 * k < 4, acc[k] += sum over r < rows, q < cols of
 * a[a_base + r * a_row + q * a_col + k] * b[b_base + r * b_row + q * b_col + k],
 * added in order of (r, q) as the loops it replaces, so with the same
 * rounding. */
static inline void fdt_window4_f32(float *acc, const float *a, size_t a_base, size_t a_row, size_t a_col,
                                   const float *b, size_t b_base, size_t b_row, size_t b_col, size_t rows,
                                   size_t cols)
{
  float s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3];
  for (size_t r = 0; r < rows; r++) {
    const float *x = a + a_base + r * a_row;
    const float *y = b + b_base + r * b_row;
    for (size_t q = 0; q < cols; q++, x += a_col, y += b_col) {
      s0 += x[0] * y[0];
      s1 += x[1] * y[1];
      s2 += x[2] * y[2];
      s3 += x[3] * y[3];
    }
  }
  acc[0] = s0;
  acc[1] = s1;
  acc[2] = s2;
  acc[3] = s3;
}
