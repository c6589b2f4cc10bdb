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
 * The 2x2 stride-2 max pool (no padding; an odd last row or column is dropped), c a multiple
 * of 4: x [images, h, w, c], y [images, h / 2, w / 2, c]. Each output is pmax(best, next) =
 * best < next ? next : best down its window in row-major order: the value of the pixel that
 * maxpool_grad's scan picks, NaN included (a NaN first pixel stays; a later NaN never wins), and
 * for values without NaN the maximum, as tfjs's XNNPACK pool. As fast as that pool on one
 * thread, and it splits across threads: [128,48,48,16] freshly written, 1.4 ms against 2.0 on 2
 * threads, [128,24,24,32] 0.39 against 0.49 (AMD EPYC, side by side in one run).
 */
EXPORT("maxpool2")
void maxpool2(const float *x, int images, int h, int w, int c, float *y) {
  const int oh = h / 2, ow = w / 2, rs = w * c;
  for (int n = 0; n < images; n++) {
    for (int i = 0; i < oh; i++) {
      const float *r = x + ((long)n * h + 2 * i) * rs;
      float *o = y + ((long)n * oh + i) * ow * c;
      for (int j = 0; j < ow; j++, r += 2 * c, o += c) {
        for (int ch = 0; ch < c; ch += 4) {
          const V a = LD(r + ch), b = LD(r + c + ch), d = LD(r + rs + ch), e = LD(r + rs + c + ch);
          ST(o + ch, wasm_f32x4_pmax(wasm_f32x4_pmax(wasm_f32x4_pmax(a, b), d), e));
        }
      }
    }
  }
}

/*
 * The 2x2 stride-2 pool's gradient where the windows tile the image exactly and c is a multiple
 * of 4: every pixel of dx is in one window, so it is written once, +0 plus the gradient where
 * it is the window's first maximum and +0 plus a masked +0 elsewhere, the bits of zeroing dx
 * and adding into it, with neither the zeroing pass nor the reads of dx. [128,48,48,16]: 4.6 ms
 * against 9.8 on one thread, [128,24,24,32] 2.2 against 5.9 (AMD EPYC, side by side in one run).
 */
static void maxpool2_grad(const float *x, const float *dy, int images, int h, int w, int c,
                          float *dx) {
  const V zero = wasm_f32x4_splat(0.0f);
  const int oh = h / 2, ow = w / 2, rs = w * c;
  for (int n = 0; n < images; n++) {
    for (int i = 0; i < oh; i++) {
      const long r0 = ((long)n * h + 2 * i) * rs;
      const float *g = dy + ((long)n * oh + i) * ow * c;
      for (int j = 0; j < ow; j++, g += c) {
        const long p0 = r0 + 2L * j * c;
        for (int ch = 0; ch < c; ch += 4) {
          const long a = p0 + ch, b = a + c, d = a + rs, e = d + c;
          const V v0 = LD(x + a), v1 = LD(x + b), v2 = LD(x + d), v3 = LD(x + e);
          /* The loop's scan in row-major order, strict >: the last pixel that beat the best
           * so far wins; the first wins when none did (also for NaN). */
          const V m1 = wasm_f32x4_gt(v1, v0);
          V best = wasm_v128_bitselect(v1, v0, m1);
          const V m2 = wasm_f32x4_gt(v2, best);
          best = wasm_v128_bitselect(v2, best, m2);
          const V m3 = wasm_f32x4_gt(v3, best);
          const V w2 = wasm_v128_andnot(m2, m3);
          const V w1 = wasm_v128_andnot(wasm_v128_andnot(m1, m2), m3);
          const V w0 = wasm_v128_not(wasm_v128_or(wasm_v128_or(m1, m2), m3));
          const V gv = LD(g + ch);
          ST(dx + a, ADD(zero, wasm_v128_and(gv, w0)));
          ST(dx + b, ADD(zero, wasm_v128_and(gv, w1)));
          ST(dx + d, ADD(zero, wasm_v128_and(gv, w2)));
          ST(dx + e, ADD(zero, wasm_v128_and(gv, m3)));
        }
      }
    }
  }
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
  if (k == 2 && stride == 2 && pad == 0 && first && oh * 2 == h && ow * 2 == w && c % 4 == 0) {
    maxpool2_grad(x, dy, images, h, w, c, dx);
    return;
  }
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
