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

/*
 * Rows of one pass of BN_BLOCKS over C channels: at most 2,048 floats, so that the groups of
 * channels going down a pass's rows read near each other ([128,12,12,64]: 0.09 ms against 0.11
 * for whole blocks, one thread).
 */
static inline __attribute__((always_inline)) int bn_pass_rows(int C) {
  const int r = 2048 / C;
  return r < 1 ? 1 : r > BN_BLOCK ? BN_BLOCK : r;
}

/*
 * Per-channel sums of TERM(row, c) (the vector of channels c .. c + 3 in row `row`, an offset
 * into [rows, C]) over each block of BN_BLOCK rows: out[rows / BN_BLOCK, C]. The block's rows
 * go in passes of bn_pass_rows; in each, sixteen channels at a time are summed in registers
 * down the pass's rows and stored once. Each sum is the same chain of adds as accumulating in
 * `out` row by row (the same bits), without a load and a store of every sum per row, which
 * bound that loop: [128,48,48,16] 0.5 ms against 1.1 on one thread, [128,24,24,32] 0.2 against
 * 0.4, for the sums and for the squared deviations alike (AMD EPYC, side by side in one run).
 */
#define BN_BLOCKS(out, TERM)                                                                \
  for (int r0 = 0, ob = 0; r0 < rows; r0 += BN_BLOCK, ob += C) {                            \
    const int r1 = r0 + BN_BLOCK < rows ? r0 + BN_BLOCK : rows, step = bn_pass_rows(C);     \
    float *o = out + ob;                                                                    \
    for (int c = 0; c < C; c += 4) ST(o + c, wasm_f32x4_splat(0.0f));                      \
    for (int p0 = r0; p0 < r1; p0 += step) {                                                \
      const long e0 = (long)p0 * C, e1 = (long)(p0 + step < r1 ? p0 + step : r1) * C;       \
      int c = 0;                                                                            \
      for (; c + 16 <= C; c += 16) {                                                        \
        V s0 = LD(o + c), s1 = LD(o + c + 4), s2 = LD(o + c + 8), s3 = LD(o + c + 12);      \
        for (long row = e0; row < e1; row += C) {                                           \
          s0 = ADD(s0, TERM(row, c));                                                       \
          s1 = ADD(s1, TERM(row, c + 4));                                                   \
          s2 = ADD(s2, TERM(row, c + 8));                                                   \
          s3 = ADD(s3, TERM(row, c + 12));                                                  \
        }                                                                                   \
        ST(o + c, s0); ST(o + c + 4, s1); ST(o + c + 8, s2); ST(o + c + 12, s3);            \
      }                                                                                     \
      for (; c < C; c += 4) {                                                               \
        V s = LD(o + c);                                                                    \
        for (long row = e0; row < e1; row += C) s = ADD(s, TERM(row, c));                   \
        ST(o + c, s);                                                                       \
      }                                                                                     \
    }                                                                                       \
  }

#define BN_X(row, c) LD(x + (row) + (c))
#define BN_SQDEV(row, c) ({ const V _d = SUB(LD(x + (row) + (c)), LD(mean + (c))); MUL(_d, _d); })

/* Block sums of x [rows, C]: out [ceil(rows / BN_BLOCK), C]. */
EXPORT("bn_sum_blocks")
void bn_sum_blocks(const float *x, int rows, int C, float *out) {
  BN_BLOCKS(out, BN_X)
}

/* Block sums of (x - mean)^2. */
EXPORT("bn_sqdev_blocks")
void bn_sqdev_blocks(const float *x, int rows, int C, const float *mean, float *out) {
  BN_BLOCKS(out, BN_SQDEV)
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

/*
 * xhat = (x - mean) invstd at row offset `row`, channels c .. c + 3: bn_norm_rows's value, the
 * same bits, recomputed by the gradient from x instead of saved (a third less memory traffic
 * in the forward, and no xhat tensor the size of x).
 */
static inline __attribute__((always_inline)) V bn_xhat(const float *x, const float *mean,
                                                       const float *invstd, long row, int c) {
  return MUL(SUB(LD(x + row + c), LD(mean + c)), LD(invstd + c));
}

/* One step of bn_grad_blocks: dy as bn_dy takes it into b, dy * xhat into g, at row offset
 * `row`, channels c .. c + 3. */
#define BN_GRAD_STEP(b, g, row, c)                                                          \
  do {                                                                                      \
    const V _dy = bn_dy(dy, out, (row) + (c));                                              \
    b = ADD(b, _dy);                                                                        \
    g = ADD(g, MUL(_dy, bn_xhat(x, mean, invstd, row, c)));                                 \
  } while (0)

/*
 * Block sums of dy (into db) and of dy * xhat (into dg) over the rows [r0, r1) of one block:
 * row by row, adding into db and dg, or with 16 channels, in 8 sums held in registers down the
 * rows and stored once (the same chains of adds, and so the same bits). At 16 channels the sums'
 * load and store per row bound the first form: [128,48,48,16] with the relu's step 1.4 ms
 * against 1.9 on one thread, 0.8 against 1.4 without (AMD EPYC, side by side in one run, with
 * xhat still read from memory; recomputing it later cost 0-10% at any width). From
 * 32 channels the first form, reading three inputs in order, is the faster: groups of channels
 * down the rows as in BN_BLOCKS took 1.3 ms against 0.9 at [128,24,24,32] with the step.
 * `out` is 0 or not for a whole call, so bn_dy's test is a constant once inlined.
 */
static inline __attribute__((always_inline)) void bn_grad_block(
    const float *dy, const float *x, const float *mean, const float *invstd, int r0, int r1,
    int C, float *db, float *dg, const float *out) {
  const long e0 = (long)r0 * C, e1 = (long)r1 * C;
  if (C == 16) {
    V b0 = wasm_f32x4_splat(0.0f), b1 = b0, b2 = b0, b3 = b0;
    V g0 = b0, g1 = b0, g2 = b0, g3 = b0;
    for (long row = e0; row < e1; row += 16) {
      BN_GRAD_STEP(b0, g0, row, 0);
      BN_GRAD_STEP(b1, g1, row, 4);
      BN_GRAD_STEP(b2, g2, row, 8);
      BN_GRAD_STEP(b3, g3, row, 12);
    }
    ST(db, b0); ST(db + 4, b1); ST(db + 8, b2); ST(db + 12, b3);
    ST(dg, g0); ST(dg + 4, g1); ST(dg + 8, g2); ST(dg + 12, g3);
    return;
  }
  for (int c = 0; c < C; c += 4) {
    ST(db + c, wasm_f32x4_splat(0.0f));
    ST(dg + c, wasm_f32x4_splat(0.0f));
  }
  for (long row = e0; row < e1; row += C) {
    for (int c = 0; c < C; c += 4) {
      const V g = bn_dy(dy, out, row + c);
      ST(db + c, ADD(LD(db + c), g));
      ST(dg + c, ADD(LD(dg + c), MUL(g, bn_xhat(x, mean, invstd, row, c))));
    }
  }
}

/*
 * Block sums of dy (into db) and of dy * xhat (into dg), in one pass, xhat from x, mean and
 * invstd (bn_xhat); out: see bn_dy (or 0).
 */
EXPORT("bn_grad_blocks")
void bn_grad_blocks(const float *dy, const float *x, const float *mean, const float *invstd,
                    int rows, int C, float *db, float *dg, const float *out) {
  for (int r0 = 0, ob = 0; r0 < rows; r0 += BN_BLOCK, ob += C) {
    const int r1 = r0 + BN_BLOCK < rows ? r0 + BN_BLOCK : rows;
    if (out) {
      bn_grad_block(dy, x, mean, invstd, r0, r1, C, db + ob, dg + ob, out);
    } else {
      bn_grad_block(dy, x, mean, invstd, r0, r1, C, db + ob, dg + ob, 0);
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
 * y = gamma xhat + beta, xhat = (x - mean) invstd (bn_xhat), over rows of [rows, C]; with
 * relu, y is max(0, y) as XNNPACK's clamp (tfjs's Relu) takes it, pmax(0, y).
 */
EXPORT("bn_norm_rows")
void bn_norm_rows(const float *x, int rows, int C, const float *mean, const float *invstd,
                  const float *gamma, const float *beta, float *y, int relu) {
  const V zero = wasm_f32x4_splat(0.0f);
  for (int r = 0; r < rows; r++) {
    const long row = (long)r * C;
    for (int c = 0; c < C; c += 4) {
      const V xh = bn_xhat(x, mean, invstd, row, c);
      const V v = ADD(MUL(xh, LD(gamma + c)), LD(beta + c));
      ST(y + row + c, relu ? wasm_f32x4_pmax(zero, v) : v);
    }
  }
}

/*
 * The closed-form gradient over rows of [rows, C], given dbeta = sum dy and dgamma =
 * sum dy xhat over all m rows of the batch: dx = (gamma invstd / m) (m dy - dbeta - xhat dgamma),
 * dy as bn_dy takes it, xhat from x (bn_xhat).
 */
EXPORT("bn_grad_rows")
void bn_grad_rows(const float *dy, const float *x, const float *mean, int rows, int C,
                  int m_rows, const float *gamma, const float *invstd, const float *dbeta,
                  const float *dgamma, float *dx, const float *out) {
  const V m = wasm_f32x4_splat((float)m_rows), invm = wasm_f32x4_splat(1.0f / (float)m_rows);
  for (int r = 0; r < rows; r++) {
    const long row = (long)r * C;
    for (int c = 0; c < C; c += 4) {
      const V scale = MUL(MUL(LD(gamma + c), LD(invstd + c)), invm);
      const V inner = SUB(SUB(MUL(bn_dy(dy, out, row + c), m), LD(dbeta + c)),
                          MUL(bn_xhat(x, mean, invstd, row, c), LD(dgamma + c)));
      ST(dx + row + c, MUL(inner, scale));
    }
  }
}
