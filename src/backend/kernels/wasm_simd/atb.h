/*
 * C += A^T B, the in-order accumulation shared by gemm.c (gemm_atb, patch_filter_grad) and
 * winograd.c (wino_filter_grad_tiles). Every output is one chain of k-ordered adds onto C, so
 * any split of the rows into consecutive blocks gives the same bits.
 */
#ifndef BYEL_ATB_H
#define BYEL_ATB_H
#include "common.h"

/*
 * C += A^T B over kn rows: A [kn, M] (row stride lda >= M), B [kn, N] (row stride N), C [M, N].
 */
static inline __attribute__((always_inline)) void acc_atb(const float *A, int lda,
                                                          const float *B, float *Cm, int kn,
                                                          int M, int N) {
  for (int m = 0; m < M; m += 4) {
    int n = 0;
    for (; n + 8 <= N; n += 8) {
      float *c = Cm + (long)m * N + n;
      V c00 = LD(c), c01 = LD(c + 4);
      V c10 = LD(c + N), c11 = LD(c + N + 4);
      V c20 = LD(c + 2 * N), c21 = LD(c + 2 * N + 4);
      V c30 = LD(c + 3 * N), c31 = LD(c + 3 * N + 4);
      const float *a = A + m, *b = B + n;
      for (int k = 0; k < kn; k++, a += lda, b += N) {
        const V av = LD(a);
        const V b0 = LD(b), b1 = LD(b + 4);
        V x = SPLAT_LANE(av, 0);
        c00 = ADD(c00, MUL(x, b0)); c01 = ADD(c01, MUL(x, b1));
        x = SPLAT_LANE(av, 1);
        c10 = ADD(c10, MUL(x, b0)); c11 = ADD(c11, MUL(x, b1));
        x = SPLAT_LANE(av, 2);
        c20 = ADD(c20, MUL(x, b0)); c21 = ADD(c21, MUL(x, b1));
        x = SPLAT_LANE(av, 3);
        c30 = ADD(c30, MUL(x, b0)); c31 = ADD(c31, MUL(x, b1));
      }
      ST(c, c00); ST(c + 4, c01); c += N;
      ST(c, c10); ST(c + 4, c11); c += N;
      ST(c, c20); ST(c + 4, c21); c += N;
      ST(c, c30); ST(c + 4, c31);
    }
    for (; n < N; n += 4) {
      float *c = Cm + (long)m * N + n;
      V c0 = LD(c), c1 = LD(c + N), c2 = LD(c + 2 * N), c3 = LD(c + 3 * N);
      const float *a = A + m, *b = B + n;
      for (int k = 0; k < kn; k++, a += lda, b += N) {
        const V av = LD(a), bv = LD(b);
        c0 = ADD(c0, MUL(SPLAT_LANE(av, 0), bv));
        c1 = ADD(c1, MUL(SPLAT_LANE(av, 1), bv));
        c2 = ADD(c2, MUL(SPLAT_LANE(av, 2), bv));
        c3 = ADD(c3, MUL(SPLAT_LANE(av, 3), bv));
      }
      ST(c, c0); ST(c + N, c1); ST(c + 2 * N, c2); ST(c + 3 * N, c3);
    }
  }
}

static inline __attribute__((always_inline)) void zero(float *p, long n) {
  const V z = wasm_f32x4_splat(0.0f);
  for (long i = 0; i < n; i += 4) ST(p + i, z);
}

#endif
