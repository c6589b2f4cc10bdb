/*
 * C = A^T B for byel's WASM backend: A [K, M] and B [K, N] both row-major with the summed
 * dimension K outermost (as the Winograd filter gradient has them: tiles x channels), C [M, N].
 * One pass over A and B per block of 4 x 16 outputs held in 16 accumulators; single-threaded.
 * tfjs's BatchMatMul would take A^T only through its scalar path, and it repacks any right
 * operand it has not seen before at about 0.2 GB/s, more than the product costs here.
 * M and N multiples of 4.
 */
#include "common.h"

#define SPLAT_LANE(v, i) wasm_i32x4_shuffle(v, v, i, i, i, i)

EXPORT("gemm_atb")
void gemm_atb(const float *A, const float *B, float *Cm, int K, int M, int N) {
  for (int m = 0; m < M; m += 4) {
    int n = 0;
    for (; n + 16 <= N; n += 16) {
      V c00 = wasm_f32x4_splat(0.0f), c01 = c00, c02 = c00, c03 = c00;
      V c10 = c00, c11 = c00, c12 = c00, c13 = c00;
      V c20 = c00, c21 = c00, c22 = c00, c23 = c00;
      V c30 = c00, c31 = c00, c32 = c00, c33 = c00;
      const float *a = A + m, *b = B + n;
      for (int k = 0; k < K; k++, a += M, b += N) {
        const V av = LD(a);
        const V b0 = LD(b), b1 = LD(b + 4), b2 = LD(b + 8), b3 = LD(b + 12);
        const V a0 = SPLAT_LANE(av, 0), a1 = SPLAT_LANE(av, 1);
        const V a2 = SPLAT_LANE(av, 2), a3 = SPLAT_LANE(av, 3);
        c00 = ADD(c00, MUL(a0, b0)); c01 = ADD(c01, MUL(a0, b1));
        c02 = ADD(c02, MUL(a0, b2)); c03 = ADD(c03, MUL(a0, b3));
        c10 = ADD(c10, MUL(a1, b0)); c11 = ADD(c11, MUL(a1, b1));
        c12 = ADD(c12, MUL(a1, b2)); c13 = ADD(c13, MUL(a1, b3));
        c20 = ADD(c20, MUL(a2, b0)); c21 = ADD(c21, MUL(a2, b1));
        c22 = ADD(c22, MUL(a2, b2)); c23 = ADD(c23, MUL(a2, b3));
        c30 = ADD(c30, MUL(a3, b0)); c31 = ADD(c31, MUL(a3, b1));
        c32 = ADD(c32, MUL(a3, b2)); c33 = ADD(c33, MUL(a3, b3));
      }
      float *c = Cm + (long)m * N + n;
      ST(c, c00); ST(c + 4, c01); ST(c + 8, c02); ST(c + 12, c03);
      c += N;
      ST(c, c10); ST(c + 4, c11); ST(c + 8, c12); ST(c + 12, c13);
      c += N;
      ST(c, c20); ST(c + 4, c21); ST(c + 8, c22); ST(c + 12, c23);
      c += N;
      ST(c, c30); ST(c + 4, c31); ST(c + 8, c32); ST(c + 12, c33);
    }
    for (; n < N; n += 4) {
      V c0 = wasm_f32x4_splat(0.0f), c1 = c0, c2 = c0, c3 = c0;
      const float *a = A + m, *b = B + n;
      for (int k = 0; k < K; k++, a += M, b += N) {
        const V av = LD(a), bv = LD(b);
        c0 = ADD(c0, MUL(SPLAT_LANE(av, 0), bv));
        c1 = ADD(c1, MUL(SPLAT_LANE(av, 1), bv));
        c2 = ADD(c2, MUL(SPLAT_LANE(av, 2), bv));
        c3 = ADD(c3, MUL(SPLAT_LANE(av, 3), bv));
      }
      float *c = Cm + (long)m * N + n;
      ST(c, c0); ST(c + N, c1); ST(c + 2 * N, c2); ST(c + 3 * N, c3);
    }
  }
}
