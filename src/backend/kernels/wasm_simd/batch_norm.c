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
 * of BN_BLOCK rows added into the totals, which keeps float32 rounding near that of a
 * pairwise sum. ---- */
#define BN_BLOCK 128

/* Per-channel sums of f(x) over rows into out[C], with tmp[C] as the block accumulator. */
#define BN_SUM(out, tmp, EXPR)                                                              \
  for (int c = 0; c < C; c += 4) ST(out + c, wasm_f32x4_splat(0.0f));                       \
  for (int r0 = 0; r0 < rows; r0 += BN_BLOCK) {                                             \
    const int r1 = r0 + BN_BLOCK < rows ? r0 + BN_BLOCK : rows;                             \
    for (int c = 0; c < C; c += 4) ST(tmp + c, wasm_f32x4_splat(0.0f));                     \
    for (int r = r0; r < r1; r++) {                                                         \
      const long row = (long)r * C;                                                         \
      for (int c = 0; c < C; c += 4) ST(tmp + c, ADD(LD(tmp + c), EXPR));                   \
    }                                                                                       \
    for (int c = 0; c < C; c += 4) ST(out + c, ADD(LD(out + c), LD(tmp + c)));              \
  }

/* mean[C] and biased var[C] of x [rows, C]; tmp[C] scratch. Two passes (exact-ish variance). */
EXPORT("bn_stats")
void bn_stats(const float *x, int rows, int C, float *mean, float *var, float *tmp) {
  const V inv = wasm_f32x4_splat(1.0f / (float)rows);
  BN_SUM(mean, tmp, LD(x + row + c))
  for (int c = 0; c < C; c += 4) ST(mean + c, MUL(LD(mean + c), inv));
  BN_SUM(var, tmp, ({ const V _d = SUB(LD(x + row + c), LD(mean + c)); MUL(_d, _d); }))
  for (int c = 0; c < C; c += 4) ST(var + c, MUL(LD(var + c), inv));
}

/* invstd = 1/sqrt(var + eps); xhat = (x - mean) invstd; y = gamma xhat + beta. */
EXPORT("bn_norm")
void bn_norm(const float *x, int rows, int C, const float *mean, const float *var, float eps,
             const float *gamma, const float *beta, float *y, float *xhat, float *invstd) {
  const V e = wasm_f32x4_splat(eps), one = wasm_f32x4_splat(1.0f);
  for (int c = 0; c < C; c += 4) {
    ST(invstd + c, wasm_f32x4_div(one, wasm_f32x4_sqrt(ADD(LD(var + c), e))));
  }
  for (int r = 0; r < rows; r++) {
    const long row = (long)r * C;
    for (int c = 0; c < C; c += 4) {
      const V xh = MUL(SUB(LD(x + row + c), LD(mean + c)), LD(invstd + c));
      ST(xhat + row + c, xh);
      ST(y + row + c, ADD(MUL(xh, LD(gamma + c)), LD(beta + c)));
    }
  }
}

/*
 * The closed-form gradient: dbeta = sum dy, dgamma = sum dy xhat,
 * dx = (gamma invstd / m) (m dy - dbeta - xhat dgamma), m = rows. tmp[C] scratch.
 */
EXPORT("bn_grad")
void bn_grad(const float *dy, const float *xhat, int rows, int C, const float *gamma,
             const float *invstd, float *dx, float *dgamma, float *dbeta, float *tmp) {
  BN_SUM(dbeta, tmp, LD(dy + row + c))
  BN_SUM(dgamma, tmp, MUL(LD(dy + row + c), LD(xhat + row + c)))
  const V m = wasm_f32x4_splat((float)rows), invm = wasm_f32x4_splat(1.0f / (float)rows);
  for (int r = 0; r < rows; r++) {
    const long row = (long)r * C;
    for (int c = 0; c < C; c += 4) {
      const V scale = MUL(MUL(LD(gamma + c), LD(invstd + c)), invm);
      const V inner = SUB(SUB(MUL(LD(dy + row + c), m), LD(dbeta + c)),
                          MUL(LD(xhat + row + c), LD(dgamma + c)));
      ST(dx + row + c, MUL(inner, scale));
    }
  }
}
