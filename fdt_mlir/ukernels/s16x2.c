/* Two int8 lanes of a word as 16-bit halves, for the dual 16-bit MACs of
 * Arm's DSP extension (Cortex-M4, M7, M33, ...): bytes 0 and 2 (even) or 1
 * and 3 (odd) of x, sign-extended, plus offset (one 16-bit value in both
 * halves). A zero offset (weights) needs no register. */
#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__)
#include <arm_acle.h>
static inline int32_t fdt_even_s16x2(int32_t offset, int32_t x)
{
  return offset == 0 ? __sxtb16(x) : __sxtab16(offset, x);
}
static inline int32_t fdt_odd_s16x2(int32_t offset, int32_t x)
{
  int32_t r;
  if (offset == 0)
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  else
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(offset), "r"(x));
  return r;
}
static inline int32_t fdt_s16x2(int32_t offset)
{
  return (int32_t)(((uint32_t)offset & 0xFFFFu) * 0x00010001u);
}
#endif
