/*
 * Broadcast binary operations (add, sub, mul, div) on float32 for byel's WASM backend: one
 * operand `a` has the output's shape, the other `s` is broadcast over it, in one of two
 * patterns (src/backend/kernels/wasm_binary.ts finds them):
 * - suffix: s holds the output's last dimensions (a per-channel mean [C] against images
 *   [B, H, W, C]): out[r P + c] = a[r P + c] op s[c], rows r0 .. r1 - 1 of P values;
 * - prefix: s holds the output's first dimensions, 1 after them (a gray image [B, H, W, 1]
 *   against [B, H, W, 3], a factor per image [B, 1, 1, 1]): out[j Q + q] = a[j Q + q] op s[j],
 *   blocks j0 .. j1 - 1 of Q values.
 * tfjs-wasm runs these through a scalar loop that computes every element's broadcast index
 * (about 4 ms for a batch of 128 images at 48 px against 0.3 for the same op on equal shapes).
 * Each output is the one IEEE float32 operation on its two inputs, so the bits are tfjs's.
 * op: 0 add, 1 sub, 2 mul, 3 div; swap: s is the left operand (s op a).
 */
#include "common.h"

#define VOP_0(x, y) ADD(x, y)
#define VOP_1(x, y) SUB(x, y)
#define VOP_2(x, y) MUL(x, y)
#define VOP_3(x, y) wasm_f32x4_div(x, y)
#define SOP_0(x, y) ((x) + (y))
#define SOP_1(x, y) ((x) - (y))
#define SOP_2(x, y) ((x) * (y))
#define SOP_3(x, y) ((x) / (y))

/* The loop of each pattern for one operation; F(a, s) and G(a, s) its vector and scalar forms. */
#define SUFFIX_LOOP(F, G)                                                                   \
  if (P == 3) {                                                                             \
    const float t0 = s[0], t1 = s[1], t2 = s[2];                                            \
    const V u0 = wasm_f32x4_make(t0, t1, t2, t0), u1 = wasm_f32x4_make(t1, t2, t0, t1);     \
    const V u2 = wasm_f32x4_make(t2, t0, t1, t2);                                           \
    int r = r0;                                                                             \
    for (; r + 4 <= r1; r += 4) {                                                           \
      const float *pa = a + (long)r * 3;                                                    \
      float *po = out + (long)r * 3;                                                        \
      ST(po, F(LD(pa), u0));                                                                \
      ST(po + 4, F(LD(pa + 4), u1));                                                        \
      ST(po + 8, F(LD(pa + 8), u2));                                                        \
    }                                                                                       \
    for (long i = (long)r * 3; i < (long)r1 * 3; i++) out[i] = G(a[i], s[i % 3]);          \
  } else {                                                                                  \
    for (int r = r0; r < r1; r++) {                                                         \
      const float *pa = a + (long)r * P;                                                    \
      float *po = out + (long)r * P;                                                        \
      int c = 0;                                                                            \
      for (; c + 4 <= P; c += 4) ST(po + c, F(LD(pa + c), LD(s + c)));                      \
      for (; c < P; c++) po[c] = G(pa[c], s[c]);                                            \
    }                                                                                       \
  }

#define PREFIX_LOOP(F, G)                                                                   \
  if (Q == 3) {                                                                             \
    int j = j0;                                                                             \
    for (; j + 4 <= j1; j += 4) {                                                           \
      const V t = LD(s + j);                                                                \
      const float *pa = a + (long)j * 3;                                                    \
      float *po = out + (long)j * 3;                                                        \
      ST(po, F(LD(pa), wasm_i32x4_shuffle(t, t, 0, 0, 0, 1)));                              \
      ST(po + 4, F(LD(pa + 4), wasm_i32x4_shuffle(t, t, 1, 1, 2, 2)));                      \
      ST(po + 8, F(LD(pa + 8), wasm_i32x4_shuffle(t, t, 2, 3, 3, 3)));                      \
    }                                                                                       \
    for (long i = (long)j * 3; i < (long)j1 * 3; i++) out[i] = G(a[i], s[i / 3]);          \
  } else {                                                                                  \
    for (int j = j0; j < j1; j++) {                                                         \
      const float *pa = a + (long)j * Q;                                                    \
      float *po = out + (long)j * Q;                                                        \
      const float sj = s[j];                                                                \
      const V t = wasm_f32x4_splat(sj);                                                     \
      int q = 0;                                                                            \
      for (; q + 4 <= Q; q += 4) ST(po + q, F(LD(pa + q), t));                              \
      for (; q < Q; q++) po[q] = G(pa[q], sj);                                              \
    }                                                                                       \
  }

/* Each op with the operands in order (a op s) or swapped (s op a). */
#define DISPATCH(LOOP)                                                                      \
  switch (op * 2 + swap) {                                                                  \
    case 0: { LOOP(VOP_0, SOP_0) break; }                                                   \
    case 1: { LOOP(VOP_0, SOP_0) break; }                                                   \
    case 2: { LOOP(VOP_1, SOP_1) break; }                                                   \
    case 3: { LOOP(RVOP_1, RSOP_1) break; }                                                 \
    case 4: { LOOP(VOP_2, SOP_2) break; }                                                   \
    case 5: { LOOP(VOP_2, SOP_2) break; }                                                   \
    case 6: { LOOP(VOP_3, SOP_3) break; }                                                   \
    default: { LOOP(RVOP_3, RSOP_3) break; }                                                \
  }
/* Swapped sub and div (add and mul commute: the same bits either way). */
#define RVOP_1(x, y) SUB(y, x)
#define RSOP_1(x, y) ((y) - (x))
#define RVOP_3(x, y) wasm_f32x4_div(y, x)
#define RSOP_3(x, y) ((y) / (x))

EXPORT("bcast_suffix")
void bcast_suffix(int op, int swap, const float *a, const float *s, float *out, int r0, int r1,
                  int P) {
  DISPATCH(SUFFIX_LOOP)
}

EXPORT("bcast_prefix")
void bcast_prefix(int op, int swap, const float *a, const float *s, float *out, int j0, int j1,
                  int Q) {
  DISPATCH(PREFIX_LOOP)
}
