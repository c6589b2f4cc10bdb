/*
 * BatchNorm in training for byel's WASM backend (WebAssembly SIMD over 4 channels): batch
 * statistics, normalisation, and the closed-form gradient of src/backend/batch_norm.ts, each in
 * one or two passes over the data instead of tfjs's transposing reductions and five separate
 * elementwise kernels. Registered as tfjs kernels by src/backend/kernels/wasm_batch_norm.ts.
 *
 * Build: build.sh.
 */
#include "common.h"

/* ---- BatchNorm in training (NHWC seen as [rows, C], C a multiple of 4). Sums run in blocks
 * of BN_BLOCK rows: each block's sum is a *_blocks call's output row, and bn_combine adds the
 * rows in order, which keeps float32 rounding near that of a pairwise sum. The blocks are
 * independent, so threads can take different rows (wasm_simd.ts splits a call at multiples of
 * BN_BLOCK rows); bn_combine's fixed order makes the result the same bits for any split. ---- */
#define BN_BLOCK 128

/* Per-channel sums of EXPR over each block of BN_BLOCK rows: out[rows / BN_BLOCK, C]. */
#define BN_BLOCKS(out, EXPR)                                                                \
  for (int r0 = 0, ob = 0; r0 < rows; r0 += BN_BLOCK, ob += C) {                            \
    const int r1 = r0 + BN_BLOCK < rows ? r0 + BN_BLOCK : rows;                             \
    for (int c = 0; c < C; c += 4) ST(out + ob + c, wasm_f32x4_splat(0.0f));                \
    for (int r = r0; r < r1; r++) {                                                         \
      const long row = (long)r * C;                                                         \
      for (int c = 0; c < C; c += 4) ST(out + ob + c, ADD(LD(out + ob + c), EXPR));         \
    }                                                                                       \
  }

/* Block sums of x [rows, C]: out [ceil(rows / BN_BLOCK), C]. */
EXPORT("bn_sum_blocks")
void bn_sum_blocks(const float *x, int rows, int C, float *out) {
  BN_BLOCKS(out, LD(x + row + c))
}

/* Block sums of (x - mean)^2. */
EXPORT("bn_sqdev_blocks")
void bn_sqdev_blocks(const float *x, int rows, int C, const float *mean, float *out) {
  BN_BLOCKS(out, ({ const V _d = SUB(LD(x + row + c), LD(mean + c)); MUL(_d, _d); }))
}

/*
 * The output gradient as the BatchNorm sees it: dy, or with a relu after the BatchNorm (its
 * output `out` given), dy times the relu's step (1 where out > 0, else 0), the same multiply
 * as tfjs's relu gradient dy * step(x).
 */
static inline __attribute__((always_inline)) V bn_dy(const float *dy, const float *out, long i) {
  if (!out) return LD(dy + i);
  const V step = wasm_v128_and(wasm_f32x4_gt(LD(out + i), wasm_f32x4_splat(0.0f)),
                               wasm_f32x4_splat(1.0f));
  return MUL(LD(dy + i), step);
}

/* Block sums of dy (into db) and of dy * xhat (into dg), in one pass; out: see bn_dy (or 0). */
EXPORT("bn_grad_blocks")
void bn_grad_blocks(const float *dy, const float *xhat, int rows, int C, float *db,
                    float *dg, const float *out) {
  for (int r0 = 0, ob = 0; r0 < rows; r0 += BN_BLOCK, ob += C) {
    const int r1 = r0 + BN_BLOCK < rows ? r0 + BN_BLOCK : rows;
    for (int c = 0; c < C; c += 4) {
      ST(db + ob + c, wasm_f32x4_splat(0.0f));
      ST(dg + ob + c, wasm_f32x4_splat(0.0f));
    }
    for (int r = r0; r < r1; r++) {
      const long row = (long)r * C;
      for (int c = 0; c < C; c += 4) {
        const V g = bn_dy(dy, out, row + c);
        ST(db + ob + c, ADD(LD(db + ob + c), g));
        ST(dg + ob + c, ADD(LD(dg + ob + c), MUL(g, LD(xhat + row + c))));
      }
    }
  }
}

/* out[C] = sum of the n block rows in order, divided by `count` when it is not 0. */
EXPORT("bn_combine")
void bn_combine(const float *blocks, int n, int C, int count, float *out) {
  for (int c = 0; c < C; c += 4) {
    V s = wasm_f32x4_splat(0.0f);
    for (int b = 0; b < n; b++) s = ADD(s, LD(blocks + (long)b * C + c));
    ST(out + c, count ? MUL(s, wasm_f32x4_splat(1.0f / (float)count)) : s);
  }
}

/* invstd[C] = 1 / sqrt(var + eps). */
EXPORT("bn_invstd")
void bn_invstd(const float *var, int C, float eps, float *invstd) {
  const V e = wasm_f32x4_splat(eps), one = wasm_f32x4_splat(1.0f);
  for (int c = 0; c < C; c += 4) {
    ST(invstd + c, wasm_f32x4_div(one, wasm_f32x4_sqrt(ADD(LD(var + c), e))));
  }
}

/*
 * xhat = (x - mean) invstd; y = gamma xhat + beta, over rows of [rows, C]; with relu, y is
 * max(0, y) as XNNPACK's clamp (tfjs's Relu) takes it, pmax(0, y).
 */
EXPORT("bn_norm_rows")
void bn_norm_rows(const float *x, int rows, int C, const float *mean, const float *invstd,
                  const float *gamma, const float *beta, float *y, float *xhat, int relu) {
  const V zero = wasm_f32x4_splat(0.0f);
  for (int r = 0; r < rows; r++) {
    const long row = (long)r * C;
    for (int c = 0; c < C; c += 4) {
      const V xh = MUL(SUB(LD(x + row + c), LD(mean + c)), LD(invstd + c));
      ST(xhat + row + c, xh);
      const V v = ADD(MUL(xh, LD(gamma + c)), LD(beta + c));
      ST(y + row + c, relu ? wasm_f32x4_pmax(zero, v) : v);
    }
  }
}

/*
 * The closed-form gradient over rows of [rows, C], given dbeta = sum dy and dgamma =
 * sum dy xhat over all m rows of the batch: dx = (gamma invstd / m) (m dy - dbeta - xhat dgamma),
 * dy as bn_dy takes it.
 */
EXPORT("bn_grad_rows")
void bn_grad_rows(const float *dy, const float *xhat, int rows, int C, int m_rows,
                  const float *gamma, const float *invstd, const float *dbeta,
                  const float *dgamma, float *dx, const float *out) {
  const V m = wasm_f32x4_splat((float)m_rows), invm = wasm_f32x4_splat(1.0f / (float)m_rows);
  for (int r = 0; r < rows; r++) {
    const long row = (long)r * C;
    for (int c = 0; c < C; c += 4) {
      const V scale = MUL(MUL(LD(gamma + c), LD(invstd + c)), invm);
      const V inner = SUB(SUB(MUL(bn_dy(dy, out, row + c), m), LD(dbeta + c)),
                          MUL(LD(xhat + row + c), LD(dgamma + c)));
      ST(dx + row + c, MUL(inner, scale));
    }
  }
}
