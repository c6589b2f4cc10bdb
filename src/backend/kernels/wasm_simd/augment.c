/*
 * The augmentations' 3x3 blur for byel's WASM backend (src/data/augment.ts, _blur3): per image,
 * out = x c + (up + down + left + right) e + (the four corners) k, reflect-padded, with the
 * per-image weights c, e, k. tfjs's composition (mirrorPad, eight slices, addN, three products)
 * spends most of its time in Slice's scalar index loop; this is one pass with the same float32
 * operations in the same order (addN sums from zero, input by input), so the same bits.
 *
 * Build: build.sh.
 */
#include "common.h"

/* Reflect padding by one: -1 -> 1, n -> n - 2. */
static inline int refl(int i, int n) { return i < 0 ? -i : (i >= n ? 2 * n - 2 - i : i); }

/* One output value at float index q of image row y, column x, channel ch (scalar path). */
static inline float blur_at(const float *img, int H, int W, int y, int x, int ch, float c,
                            float e, float k) {
  const int rs = W * 3;
  const int yu = refl(y - 1, H), yd = refl(y + 1, H), xl = refl(x - 1, W), xr = refl(x + 1, W);
#define P(yy, xx) img[(yy) * rs + (xx) * 3 + ch]
  const float edges = (((0.0f + P(yu, x)) + P(yd, x)) + P(y, xl)) + P(y, xr);
  const float corners = (((0.0f + P(yu, xl)) + P(yu, xr)) + P(yd, xl)) + P(yd, xr);
  return ((0.0f + P(y, x) * c) + edges * e) + corners * k;
#undef P
}

/*
 * x, out: [B, H, W, 3]; wc, we, wk: [B] per-image weights. H, W >= 2. Interior pixels run four
 * floats at a time along a row (neighbours 3 floats left and right, one row up and down).
 */
EXPORT("blur3")
void blur3(const float *x, int B, int H, int W, const float *wc, const float *we,
           const float *wk, float *out) {
  const int rs = W * 3;
  const V z = wasm_f32x4_splat(0.0f);
  for (int b = 0; b < B; b++) {
    const float *img = x + (long)b * H * rs;
    float *o = out + (long)b * H * rs;
    const float c = wc[b], e = we[b], k = wk[b];
    const V vc = wasm_f32x4_splat(c), ve = wasm_f32x4_splat(e), vk = wasm_f32x4_splat(k);
    for (int y = 0; y < H; y++) {
      const int interior_row = y > 0 && y < H - 1;
      /* floats [3, rs - 3) of an interior row have all eight neighbours inside the image */
      int q = 0;
      if (interior_row) {
        for (; q < 3; q++) o[y * rs + q] = blur_at(img, H, W, y, q / 3, q % 3, c, e, k);
        const float *r = img + (long)y * rs;
        for (; q + 4 <= rs - 3; q += 4) {
          const V up = LD(r - rs + q), dn = LD(r + rs + q), lf = LD(r + q - 3), rt = LD(r + q + 3);
          const V ul = LD(r - rs + q - 3), ur = LD(r - rs + q + 3);
          const V dl = LD(r + rs + q - 3), dr = LD(r + rs + q + 3);
          const V edges = ADD(ADD(ADD(ADD(z, up), dn), lf), rt);
          const V corners = ADD(ADD(ADD(ADD(z, ul), ur), dl), dr);
          ST(o + (long)y * rs + q, ADD(ADD(ADD(z, MUL(LD(r + q), vc)), MUL(edges, ve)), MUL(corners, vk)));
        }
      }
      for (; q < rs; q++) o[y * rs + q] = blur_at(img, H, W, y, q / 3, q % 3, c, e, k);
    }
  }
}

/* std::max(lo, std::min(x, hi)), as tfjs's clamp: NaN gives lo. */
static inline float clamp_tf(float lo, float x, float hi) {
  const float m = (hi < x) ? hi : x;
  return (lo < m) ? m : lo;
}

/* Pixel (y, x) of channel ch, or `fill` outside the image. */
static inline float pixel_or(const float *img, int H, int W, int C, int y, int x, int ch,
                             float fill) {
  return (0 <= y && y < H && 0 <= x && x < W) ? img[(y * W + x) * C + ch] : fill;
}

/*
 * tf.image.transform with bilinear interpolation and fill mode "nearest" (the augmentations'
 * warp, src/data/augment.ts): img [B, H, W, C] -> out [B, OH, OW, C], each output pixel read
 * at the source point of its image's 8 projective numbers (tr [B, 8], or one row for every
 * image when per_image is 0). The same float32 operations in the same order as tfjs-backend-
 * wasm 4.22's Transform kernel (its projection adds the double 1.0, then rounds to float), so
 * the same bits; that kernel is a scalar loop on one thread.
 */
EXPORT("warp_bilinear_nearest")
void warp_bilinear_nearest(const float *img, const float *tr, int per_image, int B, int H,
                           int W, int C, int OH, int OW, float fill, float *out) {
  const float wmax = (float)(W - 1), hmax = (float)(H - 1);
  for (int b = 0; b < B; b++) {
    const float *t = tr + (per_image ? b * 8 : 0);
    const float *im = img + (long)b * H * W * C;
    float *o = out + (long)b * OH * OW * C;
    for (int oy = 0; oy < OH; oy++) {
      const float fy = (float)oy;
      for (int ox = 0; ox < OW; ox++) {
        const float fx = (float)ox;
        float *dst = o + (oy * OW + ox) * C;
        const float proj = (float)((double)(t[6] * fx + t[7] * fy) + 1.0);
        if (proj == 0) {
          for (int ch = 0; ch < C; ch++) dst[ch] = fill;
          continue;
        }
        const float in_x = (t[0] * fx + t[1] * fy + t[2]) / proj;
        const float in_y = (t[3] * fx + t[4] * fy + t[5]) / proj;
        const float x = clamp_tf(0.0f, in_x, wmax), y = clamp_tf(0.0f, in_y, hmax);
        const float yf = __builtin_floorf(y), xf = __builtin_floorf(x);
        const float yc = yf + 1, xc = xf + 1;
        const int y0 = (int)yf, x0 = (int)xf, y1 = (int)yc, x1 = (int)xc;
        for (int ch = 0; ch < C; ch++) {
          const float top = (xc - x) * pixel_or(im, H, W, C, y0, x0, ch, fill) +
                            (x - xf) * pixel_or(im, H, W, C, y0, x1, ch, fill);
          const float bot = (xc - x) * pixel_or(im, H, W, C, y1, x0, ch, fill) +
                            (x - xf) * pixel_or(im, H, W, C, y1, x1, ch, fill);
          dst[ch] = (yc - y) * top + (y - yf) * bot;
        }
      }
    }
  }
}
