/*
 * Optimizer and weight-averaging updates for byel's WASM backend, one pass per parameter
 * instead of a dozen tfjs elementwise kernels. Each computes exactly the float32 operations of
 * the tfjs composition it replaces, in the same order (src/train/optimizers.ts, average.ts),
 * so the results have the same bits. Registered as tfjs kernels by
 * src/backend/kernels/wasm_optim.ts.
 *
 * Build: build.sh.
 */
#include "common.h"

/*
 * Adam (PyTorch's form, L2 decay added to the gradient), over elements [0, n) of p, g, m, v:
 *   g' = g + p wd (when decay),  m' = m b1 + g' (1 - b1),  v' = v b2 + g'^2 (1 - b2),
 *   p' = p - (m' / (sqrt(v' / c2) + eps)) lr1,
 * with lr1 = lr / (1 - b1^t) and c2 = 1 - b2^t read from one-element tensors at `lr1` and `c2`.
 * The constants arrive rounded to float32, as tfjs's scalar tensors are.
 */
EXPORT("adam_update")
void adam_update(const float *p, const float *g, const float *m, const float *v, int n,
                 float b1, float nb1, float b2, float nb2, float eps, int decay, float wd,
                 const float *lr1, const float *c2, float *p_out, float *m_out, float *v_out) {
  const float lr = *lr1, c = *c2;
  const V vb1 = wasm_f32x4_splat(b1), vnb1 = wasm_f32x4_splat(nb1);
  const V vb2 = wasm_f32x4_splat(b2), vnb2 = wasm_f32x4_splat(nb2);
  const V veps = wasm_f32x4_splat(eps), vwd = wasm_f32x4_splat(wd);
  const V vlr = wasm_f32x4_splat(lr), vc = wasm_f32x4_splat(c);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const V pp = LD(p + i);
    V gg = LD(g + i);
    if (decay) gg = ADD(gg, MUL(pp, vwd));
    const V mm = ADD(MUL(LD(m + i), vb1), MUL(gg, vnb1));
    const V vv = ADD(MUL(LD(v + i), vb2), MUL(MUL(gg, gg), vnb2));
    const V denom = ADD(wasm_f32x4_sqrt(wasm_f32x4_div(vv, vc)), veps);
    ST(m_out + i, mm);
    ST(v_out + i, vv);
    ST(p_out + i, SUB(pp, MUL(wasm_f32x4_div(mm, denom), vlr)));
  }
  for (; i < n; i++) {
    float gg = g[i];
    if (decay) gg = gg + p[i] * wd;
    const float mm = m[i] * b1 + gg * nb1;
    const float vv = v[i] * b2 + (gg * gg) * nb2;
    const float denom = __builtin_sqrtf(vv / c) + eps;
    m_out[i] = mm;
    v_out[i] = vv;
    p_out[i] = p[i] - (mm / denom) * lr;
  }
}

/* out = a d + b (1 - d) over [0, n) (the moving averages: BYOL's target, the weights' EMA). */
EXPORT("lerp_update")
void lerp_update(const float *a, const float *b, int n, float d, float nd, float *out) {
  const V vd = wasm_f32x4_splat(d), vnd = wasm_f32x4_splat(nd);
  int i = 0;
  for (; i + 4 <= n; i += 4) ST(out + i, ADD(MUL(LD(a + i), vd), MUL(LD(b + i), vnd)));
  for (; i < n; i++) out[i] = a[i] * d + b[i] * nd;
}
