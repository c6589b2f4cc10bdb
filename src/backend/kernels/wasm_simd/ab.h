/*
 * Blocks of C = A B from a packed panel of B ([K, 8]: 8 columns, row after row), shared by
 * gemm.c (gemm_ab) and winograd.c (wino43_conv). Every output is one chain of k-ordered
 * multiply-adds from zero, so the bits do not depend on how the rows are blocked or split.
 */
#ifndef BYEL_AB_H
#define BYEL_AB_H
#include "common.h"

/* One k of a 4 x 8 block: B's row of the panel times lane L of each row's vector of A. */
#define AB_STEP(L)                                                                          \
  do {                                                                                      \
    const V b0 = LD(b), b1 = LD(b + 4);                                                     \
    V x = SPLAT_LANE(q0, L);                                                                \
    c00 = ADD(c00, MUL(x, b0)); c01 = ADD(c01, MUL(x, b1));                                 \
    x = SPLAT_LANE(q1, L);                                                                  \
    c10 = ADD(c10, MUL(x, b0)); c11 = ADD(c11, MUL(x, b1));                                 \
    x = SPLAT_LANE(q2, L);                                                                  \
    c20 = ADD(c20, MUL(x, b0)); c21 = ADD(c21, MUL(x, b1));                                 \
    x = SPLAT_LANE(q3, L);                                                                  \
    c30 = ADD(c30, MUL(x, b0)); c31 = ADD(c31, MUL(x, b1));                                 \
    b += 8;                                                                                 \
  } while (0)

/*
 * A block of 4 x 8 outputs. A's rows are read 4 k at a time as vectors and each k's value
 * splat from a lane (a shuffle): V8 on x64 turns `v128.load32_splat` into a load and a
 * shuffle, and 4 of those per k made this loop load-bound (28-30 GFLOP/s on one thread against
 * 31-35 this way, M 960 x N 96 x K 64, AMD EPYC; XNNPACK's x86 WASM kernels do the same). The
 * k order of every output's chain is unchanged, so are the bits.
 */
static inline __attribute__((always_inline)) void ab_4x8(const float *a, const float *b,
                                                        float *c, int K, int N) {
  V c00 = wasm_f32x4_splat(0.0f), c01 = c00, c10 = c00, c11 = c00;
  V c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  const float *a1 = a + K, *a2 = a1 + K, *a3 = a2 + K;
  int k = 0;
  for (; k + 4 <= K; k += 4) {
    const V q0 = LD(a + k), q1 = LD(a1 + k), q2 = LD(a2 + k), q3 = LD(a3 + k);
    AB_STEP(0);
    AB_STEP(1);
    AB_STEP(2);
    AB_STEP(3);
  }
  for (; k < K; k++) {
    const V q0 = wasm_v128_load32_splat(a + k), q1 = wasm_v128_load32_splat(a1 + k);
    const V q2 = wasm_v128_load32_splat(a2 + k), q3 = wasm_v128_load32_splat(a3 + k);
    AB_STEP(0);
  }
  ST(c, c00); ST(c + 4, c01); c += N;
  ST(c, c10); ST(c + 4, c11); c += N;
  ST(c, c20); ST(c + 4, c21); c += N;
  ST(c, c30); ST(c + 4, c31);
}

/* One row of 8 outputs from a packed panel. */
static inline __attribute__((always_inline)) void ab_1x8(const float *a, const float *b,
                                                        float *c, int K) {
  V c0 = wasm_f32x4_splat(0.0f), c1 = c0;
  for (int k = 0; k < K; k++, b += 8) {
    const V x = wasm_v128_load32_splat(a + k);
    c0 = ADD(c0, MUL(x, LD(b)));
    c1 = ADD(c1, MUL(x, LD(b + 4)));
  }
  ST(c, c0); ST(c + 4, c1);
}

#endif
