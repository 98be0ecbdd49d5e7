/* fdt_dot_f32: acc + sum over k < n of a[k] * b[k], added in order of k,
 * as the float32 multiply-accumulate loop it replaces: the same rounding
 * step by step, so the same result. */
static inline float fdt_dot_f32(float acc, const float *a, size_t a_base, const float *b, size_t b_base, size_t n)
{
  a += a_base;
  b += b_base;
  for (size_t k = 0; k < n; k++)
    acc += a[k] * b[k];
  return acc;
}
