/*
 * Max-pool gradients for byel's WASM backend (the VGG's 2x2 pools, the ResNet stem's 3x3
 * stride-2 pool): each output's gradient goes to the first maximum of its window (row-major,
 * strict >), added into a zeroed dx in the order of the outputs, exactly as the plain-JS
 * gradients in src/backend/max_pool.ts do, so the results have the same bits. tfjs-backend-wasm
 * 4.22's own MaxPoolGrad routes gradients to the wrong elements when channels > 2; the plain-JS
 * loop it replaces took 82 ms of a 584 ms quick supervised step.
 *
 * Build: build.sh.
 */
#include "common.h"

/* The window's first maximum, for the scalar tail: flat pixel index, or -1 for none. */
static inline int argmax_at(const float *xn, int w, int c, int ch, int ya, int yb, int xa,
                            int xb, int first) {
  float best = first ? xn[(ya * w + xa) * c + ch] : -__builtin_inff();
  int at = first ? ya * w + xa : -1;
  for (int y = ya; y < yb; y++) {
    for (int x = xa; x < xb; x++) {
      const float v = xn[(y * w + x) * c + ch];
      if (v > best) best = v, at = y * w + x;
    }
  }
  return at;
}

/*
 * x, dx: [images, h, w, c]; dy: [images, oh, ow, c]. Window `k` x `k`, stride `stride`, `pad`
 * rows and columns of padding before (outside pixels never win). `first` = 1 starts each window
 * at its first pixel (the 2x2 pool's loop: a window of NaN or -inf still passes its gradient
 * to that pixel); 0 starts from -inf with no winner (the 3x3 pool's loop). Adding a masked +0
 * to a pixel that did not win leaves it unchanged: a sum that starts from +0 is never -0.
 */
EXPORT("maxpool_grad")
void maxpool_grad(const float *x, const float *dy, int images, int h, int w, int c, int oh,
                  int ow, int k, int stride, int pad, int first, float *dx) {
  const int img = h * w * c;
  const V zero = wasm_f32x4_splat(0.0f), ninf = wasm_f32x4_splat(-__builtin_inff());
  const int c4 = c & ~3;
  for (int n = 0; n < images; n++) {
    const float *xn = x + (long)n * img;
    const float *gn = dy + (long)n * oh * ow * c;
    float *dn = dx + (long)n * img;
    int q = 0;
    for (; q + 4 <= img; q += 4) ST(dn + q, zero);
    for (; q < img; q++) dn[q] = 0.0f;
    for (int i = 0; i < oh; i++) {
      const int y0 = i * stride - pad;
      const int ya = y0 < 0 ? 0 : y0, yb = y0 + k > h ? h : y0 + k;
      for (int j = 0; j < ow; j++) {
        const int x0 = j * stride - pad;
        const int xa = x0 < 0 ? 0 : x0, xb = x0 + k > w ? w : x0 + k;
        const float *g = gn + (i * ow + j) * c;
        int ch = 0;
        for (; ch < c4; ch += 4) {
          V best = first ? LD(xn + (ya * w + xa) * c + ch) : ninf;
          V at = wasm_i32x4_splat(first ? ya * w + xa : -1);
          for (int y = ya; y < yb; y++) {
            for (int xx = xa; xx < xb; xx++) {
              const int p = y * w + xx;
              const V v = LD(xn + p * c + ch);
              const V m = wasm_f32x4_gt(v, best);
              best = wasm_v128_bitselect(v, best, m);
              at = wasm_v128_bitselect(wasm_i32x4_splat(p), at, m);
            }
          }
          const V gv = LD(g + ch);
          for (int y = ya; y < yb; y++) {
            for (int xx = xa; xx < xb; xx++) {
              const int p = y * w + xx;
              const V m = wasm_i32x4_eq(at, wasm_i32x4_splat(p));
              float *d = dn + p * c + ch;
              ST(d, ADD(LD(d), wasm_v128_and(gv, m)));
            }
          }
        }
        for (; ch < c; ch++) {
          const int at = argmax_at(xn, w, c, ch, ya, yb, xa, xb, first);
          if (at >= 0) dn[at * c + ch] += g[ch];
        }
      }
    }
  }
}
