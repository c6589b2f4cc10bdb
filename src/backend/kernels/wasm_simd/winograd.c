/*
 * Winograd F(2x2, 3x3) transforms for byel's WASM backend (WebAssembly SIMD, 4 lanes over
 * channels), and F(4x4, 3x3) further down. The matrix products between the transforms are
 * gemm.c's (or, for a reused filter, tfjs's XNNPACK BatchMatMul); the filter gradient's are
 * also made here, a chunk of tiles at a time (wino_filter_grad_tiles, atb.h). Everything reads
 * and writes tfjs tensors in place: the module imports tfjs-backend-wasm's own memory.
 *
 * The rules that keep that sharing safe are in common.h.
 *
 * With B^T, G, A^T the F(2x2, 3x3) matrices of Lavin & Gray (2016):
 *   U = G g G^T       (filter, [3,3,C,K] -> 16 x [C,K])
 *   V = B^T d B       (input tiles, 4x4 with stride 2 -> 16 x [T,C])
 *   M_k = V_k U_k     (16 matrix products, gemm.c or tfjs)
 *   Y = A^T M A       (16 x [T,K] -> 2x2 output tiles, + bias, relu)
 *
 * Build: build.sh (clang 14+, wasm-ld).
 */
#include "ab.h"
#include "atb.h"

/*
 * Filter transform. g: [3,3,C,K] (tfjs layout), n = C*K (a multiple of 4), elements e0 .. e1
 * (multiples of 4: calls for disjoint ranges run on different threads).
 * u0..u15: [C,K] each, component (a, b) at index 4a + b.
 */
static inline __attribute__((always_inline)) void filter_taps(
    const float *g, int step, int e0, int e1, float *u0, float *u1, float *u2, float *u3,
                 float *u4, float *u5, float *u6, float *u7, float *u8, float *u9,
                 float *u10, float *u11, float *u12, float *u13, float *u14, float *u15) {
  const V h = wasm_f32x4_splat(0.5f);
  for (int e = e0; e < e1; e += 4) {
    V g00 = LD(g + 0 * step + e), g01 = LD(g + 1 * step + e), g02 = LD(g + 2 * step + e);
    V g10 = LD(g + 3 * step + e), g11 = LD(g + 4 * step + e), g12 = LD(g + 5 * step + e);
    V g20 = LD(g + 6 * step + e), g21 = LD(g + 7 * step + e), g22 = LD(g + 8 * step + e);
    /* t = G g: rows of 3 */
    V t00 = g00, t01 = g01, t02 = g02;
    V t10 = MUL(h, ADD(ADD(g00, g10), g20)), t11 = MUL(h, ADD(ADD(g01, g11), g21)),
      t12 = MUL(h, ADD(ADD(g02, g12), g22));
    V t20 = MUL(h, ADD(SUB(g00, g10), g20)), t21 = MUL(h, ADD(SUB(g01, g11), g21)),
      t22 = MUL(h, ADD(SUB(g02, g12), g22));
    V t30 = g20, t31 = g21, t32 = g22;
    /* U = t G^T: columns */
#define ROW(r, a, b, c, d)                                                              \
  ST(a + e, t##r##0);                                                                   \
  ST(b + e, MUL(h, ADD(ADD(t##r##0, t##r##1), t##r##2)));                               \
  ST(c + e, MUL(h, ADD(SUB(t##r##0, t##r##1), t##r##2)));                               \
  ST(d + e, t##r##2);
    ROW(0, u0, u1, u2, u3)
    ROW(1, u4, u5, u6, u7)
    ROW(2, u8, u9, u10, u11)
    ROW(3, u12, u13, u14, u15)
#undef ROW
  }
}

EXPORT("wino_filter")
void wino_filter(const float *g, int n, int e0, int e1, float *u0, float *u1, float *u2,
                 float *u3, float *u4, float *u5, float *u6, float *u7, float *u8, float *u9,
                 float *u10, float *u11, float *u12, float *u13, float *u14, float *u15) {
  filter_taps(g, n, e0, e1, u0, u1, u2, u3, u4, u5, u6, u7, u8, u9, u10, u11, u12, u13, u14,
              u15);
}

/*
 * The filter transform of g rotated by 180 degrees in space (taps read last to first), the
 * filter of the input gradient (its channel axes are swapped by using the product transposed).
 */
EXPORT("wino_filter_rot")
void wino_filter_rot(const float *g, int n, int e0, int e1, float *u0, float *u1, float *u2,
                     float *u3, float *u4, float *u5, float *u6, float *u7, float *u8, float *u9,
                     float *u10, float *u11, float *u12, float *u13, float *u14, float *u15) {
  filter_taps(g + 8 * n, -n, e0, e1, u0, u1, u2, u3, u4, u5, u6, u7, u8, u9, u10, u11, u12, u13,
              u14, u15);
}

/* The 16 F(2x2) filter components of one row of taps g00..g22 (3x3), as U<a><b><suffix>. */
#define FILTER16(sfx, g00, g01, g02, g10, g11, g12, g20, g21, g22)                          \
  V t00##sfx = g00, t01##sfx = g01, t02##sfx = g02;                                         \
  V t10##sfx = MUL(h, ADD(ADD(g00, g10), g20)), t11##sfx = MUL(h, ADD(ADD(g01, g11), g21)); \
  V t12##sfx = MUL(h, ADD(ADD(g02, g12), g22));                                             \
  V t20##sfx = MUL(h, ADD(SUB(g00, g10), g20)), t21##sfx = MUL(h, ADD(SUB(g01, g11), g21)); \
  V t22##sfx = MUL(h, ADD(SUB(g02, g12), g22));                                             \
  V t30##sfx = g20, t31##sfx = g21, t32##sfx = g22;                                         \
  FILTER_ROW(0, sfx) FILTER_ROW(1, sfx) FILTER_ROW(2, sfx) FILTER_ROW(3, sfx)
#define FILTER_ROW(r, sfx)                                                                  \
  V U##r##0##sfx = t##r##0##sfx;                                                            \
  V U##r##1##sfx = MUL(h, ADD(ADD(t##r##0##sfx, t##r##1##sfx), t##r##2##sfx));              \
  V U##r##2##sfx = MUL(h, ADD(SUB(t##r##0##sfx, t##r##1##sfx), t##r##2##sfx));              \
  V U##r##3##sfx = t##r##2##sfx;

/* Stores the 4x4 block rows a..d (lanes along k) transposed: column l goes to p + l*C. */
#define ST_T(p, a, b, c, d)                                                                 \
  {                                                                                         \
    const V _t0 = wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), _t1 = wasm_i32x4_shuffle(c, d, 0, 4, 1, 5); \
    const V _t2 = wasm_i32x4_shuffle(a, b, 2, 6, 3, 7), _t3 = wasm_i32x4_shuffle(c, d, 2, 6, 3, 7); \
    ST(p, wasm_i32x4_shuffle(_t0, _t1, 0, 1, 4, 5));                                        \
    ST(p + C, wasm_i32x4_shuffle(_t0, _t1, 2, 3, 6, 7));                                    \
    ST(p + 2 * C, wasm_i32x4_shuffle(_t2, _t3, 0, 1, 4, 5));                                \
    ST(p + 3 * C, wasm_i32x4_shuffle(_t2, _t3, 2, 3, 6, 7));                                \
  }

/*
 * Filter transform written transposed: u0..u15 are [K, C] (for products U_k^T V_k^T, where the
 * operand tfjs repacks on every call is the small activation side). Works on 4x4 blocks of
 * (input channel, output channel): four rows of taps loaded along k, transformed, and each
 * component's block transposed in registers. g: [3,3,C,K]; C and K multiples of 4; output
 * channels k0 .. k1 (multiples of 4: calls for disjoint ranges run on different threads). k
 * outermost, so that each component's stores go along its rows (1.35x faster than c outermost
 * for 512 x 512 channels).
 */
EXPORT("wino_filter_t")
void wino_filter_t(const float *g, int C, int K, int k0, int k1, float *u0, float *u1,
                   float *u2, float *u3, float *u4, float *u5, float *u6, float *u7, float *u8,
                   float *u9, float *u10,
                   float *u11, float *u12, float *u13, float *u14, float *u15) {
  const V h = wasm_f32x4_splat(0.5f);
  const int n = C * K;
  for (int k = k0; k < k1; k += 4) {
    for (int c = 0; c < C; c += 4) {
#define ROWS(sfx, cc)                                                                       \
  const float *q##sfx = g + (long)(c + cc) * K + k;                                         \
  FILTER16(sfx, LD(q##sfx), LD(q##sfx + n), LD(q##sfx + 2 * n), LD(q##sfx + 3 * n),         \
           LD(q##sfx + 4 * n), LD(q##sfx + 5 * n), LD(q##sfx + 6 * n), LD(q##sfx + 7 * n),   \
           LD(q##sfx + 8 * n))
      ROWS(_0, 0)
      ROWS(_1, 1)
      ROWS(_2, 2)
      ROWS(_3, 3)
#undef ROWS
      const int e = k * C + c;
#define OUT(a, b, p) ST_T(p + e, U##a##b##_0, U##a##b##_1, U##a##b##_2, U##a##b##_3)
      OUT(0, 0, u0) OUT(0, 1, u1) OUT(0, 2, u2) OUT(0, 3, u3)
      OUT(1, 0, u4) OUT(1, 1, u5) OUT(1, 2, u6) OUT(1, 3, u7)
      OUT(2, 0, u8) OUT(2, 1, u9) OUT(2, 2, u10) OUT(2, 3, u11)
      OUT(3, 0, u12) OUT(3, 1, u13) OUT(3, 2, u14) OUT(3, 3, u15)
#undef OUT
    }
  }
}

/*
 * F(2x2, 3x3) input tiles; see wino_input and wino_input_t. Only the component rows q0 .. q1 - 1
 * (components 4 q0 .. 4 q1 - 1) are written: wino_filter_grad_tiles splits them across threads.
 */
static inline __attribute__((always_inline)) void input_tiles(
    const float *x, int B, int H, int W, int C, int pt, int pl, int th, int tw, int T,
    int transposed, int q0, int q1, float *v0, float *v1, float *v2, float *v3, float *v4,
    float *v5, float *v6, float *v7, float *v8, float *v9, float *v10, float *v11, float *v12,
    float *v13, float *v14, float *v15) {
  const V z = wasm_f32x4_splat(0.0f);
  int t = 0;
  for (int b = 0; b < B; b++) {
    for (int i = 0; i < th; i++) {
      const int y0 = 2 * i - pt;
      const int r0 = y0 >= 0 && y0 < H, r1 = y0 + 1 >= 0 && y0 + 1 < H;
      const int r2 = y0 + 2 >= 0 && y0 + 2 < H, r3 = y0 + 3 >= 0 && y0 + 3 < H;
      for (int j = 0; j < tw; j++, t++) {
        const int x0 = 2 * j - pl;
        const int c0 = x0 >= 0 && x0 < W, c1 = x0 + 1 >= 0 && x0 + 1 < W;
        const int c2 = x0 + 2 >= 0 && x0 + 2 < W, c3 = x0 + 3 >= 0 && x0 + 3 < W;
        const float *base = x + ((long)(b * H + y0) * W + x0) * C;
        const int rs = W * C;
        const int o = t * C;
        const int inner = r0 && r1 && r2 && r3 && c0 && c1 && c2 && c3;
        for (int c = 0; c < C; c += 4) {
          const float *p = base + c;
          V d00, d01, d02, d03, d10, d11, d12, d13, d20, d21, d22, d23, d30, d31, d32, d33;
          if (inner) {
            d00 = LD(p); d01 = LD(p + C); d02 = LD(p + 2 * C); d03 = LD(p + 3 * C);
            p += rs;
            d10 = LD(p); d11 = LD(p + C); d12 = LD(p + 2 * C); d13 = LD(p + 3 * C);
            p += rs;
            d20 = LD(p); d21 = LD(p + C); d22 = LD(p + 2 * C); d23 = LD(p + 3 * C);
            p += rs;
            d30 = LD(p); d31 = LD(p + C); d32 = LD(p + 2 * C); d33 = LD(p + 3 * C);
          } else {
#define L(rr, cc, q) ((r##rr) && (c##cc) ? LD(q + (rr) * rs + (cc) * C) : z)
            d00 = L(0, 0, p); d01 = L(0, 1, p); d02 = L(0, 2, p); d03 = L(0, 3, p);
            d10 = L(1, 0, p); d11 = L(1, 1, p); d12 = L(1, 2, p); d13 = L(1, 3, p);
            d20 = L(2, 0, p); d21 = L(2, 1, p); d22 = L(2, 2, p); d23 = L(2, 3, p);
            d30 = L(3, 0, p); d31 = L(3, 1, p); d32 = L(3, 2, p); d33 = L(3, 3, p);
#undef L
          }
          /* s = B^T d (rows) */
          V s00 = SUB(d00, d20), s01 = SUB(d01, d21), s02 = SUB(d02, d22), s03 = SUB(d03, d23);
          V s10 = ADD(d10, d20), s11 = ADD(d11, d21), s12 = ADD(d12, d22), s13 = ADD(d13, d23);
          V s20 = SUB(d20, d10), s21 = SUB(d21, d11), s22 = SUB(d22, d12), s23 = SUB(d23, d13);
          V s30 = SUB(d10, d30), s31 = SUB(d11, d31), s32 = SUB(d12, d32), s33 = SUB(d13, d33);
          /* V = s B (columns); [T, C] rows, or [C, T] (4 scalar stores) when transposed */
#define PUT(q, val)                                                                         \
  if (transposed) {                                                                         \
    const V _v = (val);                                                                     \
    float *_q = q + (long)c * T + t;                                                        \
    _q[0] = wasm_f32x4_extract_lane(_v, 0);                                                 \
    _q[T] = wasm_f32x4_extract_lane(_v, 1);                                                 \
    _q[2 * T] = wasm_f32x4_extract_lane(_v, 2);                                             \
    _q[3 * T] = wasm_f32x4_extract_lane(_v, 3);                                             \
  } else {                                                                                  \
    ST(q + o + c, val);                                                                     \
  }
#define ROW(r, a, bb, cc, dd)                                                               \
  if (q0 <= r && r < q1) {                                                                  \
    PUT(a, SUB(s##r##0, s##r##2));                                                          \
    PUT(bb, ADD(s##r##1, s##r##2));                                                         \
    PUT(cc, SUB(s##r##2, s##r##1));                                                         \
    PUT(dd, SUB(s##r##1, s##r##3));                                                         \
  }
          ROW(0, v0, v1, v2, v3)
          ROW(1, v4, v5, v6, v7)
          ROW(2, v8, v9, v10, v11)
          ROW(3, v12, v13, v14, v15)
#undef ROW
#undef PUT
        }
      }
    }
  }
}

/*
 * Input transform. x: [B,H,W,C] NHWC, C a multiple of 4. Tile (i, j) of image b reads rows
 * 2i - pt .. 2i - pt + 3 and columns 2j - pl .. 2j - pl + 3 (outside the image: zeros).
 * v0..v15: [B*th*tw, C] each, tile index (b*th + i)*tw + j.
 */
EXPORT("wino_input")
void wino_input(const float *x, int B, int H, int W, int C, int pt, int pl, int th, int tw,
                float *v0, float *v1, float *v2, float *v3, float *v4, float *v5, float *v6,
                float *v7, float *v8, float *v9, float *v10, float *v11, float *v12,
                float *v13, float *v14, float *v15) {
  input_tiles(x, B, H, W, C, pt, pl, th, tw, 0, 0, 0, 4, v0, v1, v2, v3, v4, v5, v6, v7, v8, v9,
              v10, v11, v12, v13, v14, v15);
}

/*
 * The same transform written transposed, v0..v15: [C, T] rows of stride T (at least B*th*tw).
 * A call for images b0.. of a larger batch passes that batch's T and v_k + b0*th*tw, so that
 * threads can share one transform (wasm_simd.ts).
 */
EXPORT("wino_input_t")
void wino_input_t(const float *x, int B, int H, int W, int C, int pt, int pl, int th, int tw,
                  int T, float *v0, float *v1, float *v2, float *v3, float *v4, float *v5,
                  float *v6, float *v7, float *v8, float *v9, float *v10, float *v11, float *v12,
                  float *v13, float *v14, float *v15) {
  input_tiles(x, B, H, W, C, pt, pl, th, tw, T, 1, 0, 4, v0, v1, v2, v3, v4, v5, v6, v7, v8, v9,
              v10, v11, v12, v13, v14, v15);
}

/*
 * Filter gradient, step 1: output-gradient tiles Z = A dY A^T (2x2 -> 4x4; outside the
 * output: zeros). dy: [B,OH,OW,K]; z0..z15: [B*th*tw, K]; only the component rows q0 .. q1 - 1
 * are written (as in input_tiles). wino_dy is all of it.
 */
static inline __attribute__((always_inline)) void dy_tiles(
    const float *dy, int B, int OH, int OW, int K, int th, int tw, int q0, int q1, float *z0,
    float *z1, float *z2, float *z3, float *z4, float *z5, float *z6, float *z7, float *z8,
    float *z9, float *z10, float *z11, float *z12, float *z13, float *z14, float *z15) {
  const V zero = wasm_f32x4_splat(0.0f);
  int t = 0;
  for (int b = 0; b < B; b++) {
    for (int i = 0; i < th; i++) {
      const int oy = 2 * i, two_rows = oy + 1 < OH;
      for (int j = 0; j < tw; j++, t++) {
        const int ox = 2 * j, two_cols = ox + 1 < OW;
        const float *q = dy + ((long)(b * OH + oy) * OW + ox) * K;
        const int o = t * K;
        for (int k = 0; k < K; k += 4) {
          const V g00 = LD(q + k);
          const V g01 = two_cols ? LD(q + K + k) : zero;
          const V g10 = two_rows ? LD(q + OW * K + k) : zero;
          const V g11 = two_rows && two_cols ? LD(q + OW * K + K + k) : zero;
          /* rows of A g: (g0, g0 + g1, g0 - g1, -g1) */
          const V a0 = g00, a1 = g01;
          const V b0 = ADD(g00, g10), b1 = ADD(g01, g11);
          const V c0 = SUB(g00, g10), c1 = SUB(g01, g11);
          const V d0 = wasm_f32x4_neg(g10), d1 = wasm_f32x4_neg(g11);
#define ROW(r, u0, u1, a, bb, cc, dd)                                                       \
  if (q0 <= r && r < q1) {                                                                  \
    ST(a + o + k, u0);                                                                      \
    ST(bb + o + k, ADD(u0, u1));                                                            \
    ST(cc + o + k, SUB(u0, u1));                                                            \
    ST(dd + o + k, wasm_f32x4_neg(u1));                                                     \
  }
          ROW(0, a0, a1, z0, z1, z2, z3)
          ROW(1, b0, b1, z4, z5, z6, z7)
          ROW(2, c0, c1, z8, z9, z10, z11)
          ROW(3, d0, d1, z12, z13, z14, z15)
#undef ROW
        }
      }
    }
  }
}

EXPORT("wino_dy")
void wino_dy(const float *dy, int B, int OH, int OW, int K, int th, int tw, float *z0,
             float *z1, float *z2, float *z3, float *z4, float *z5, float *z6, float *z7,
             float *z8, float *z9, float *z10, float *z11, float *z12, float *z13, float *z14,
             float *z15) {
  dy_tiles(dy, B, OH, OW, K, th, tw, 0, 4, z0, z1, z2, z3, z4, z5, z6, z7, z8, z9, z10, z11, z12,
           z13, z14, z15);
}

/*
 * Filter gradient, step 1 and the products in one pass: for every `rows` tile rows (a chunk of
 * `rows * tw` tiles, in the order of wino_input and wino_dy), the chunk's V and Z tiles of the
 * component rows q0 .. q1 - 1 (components 4 q0 .. 4 q1 - 1) go into `scratch` (16 x
 * [rows*tw, C], then 48 floats on, 16 x [rows*tw, K]; only those components' slots are
 * written), then dU_q += V_q^T Z_q for those components (du: 16 x [C, K], each zeroed first).
 * The staged route (wino_input, wino_dy, then gemm_atb) writes and reads back 16 x [T, C] and
 * 16 x [T, K] through main memory, 150 MB at 48 px with 16 channels and a batch of 128; here a
 * chunk stays in cache. The same float operations in the same order as the staged route, so the
 * same bits: each dU element is one chain over the tiles in order (atb.h). Calls for disjoint
 * component rows (each with its own scratch) run on different threads.
 */
EXPORT("wino_filter_grad_tiles")
void wino_filter_grad_tiles(const float *x, const float *dy, int B, int H, int W, int C, int OH,
                            int OW, int K, int pt, int pl, int th, int tw, int rows, int q0,
                            int q1, float *scratch, float *du) {
  const long ct = (long)rows * tw, ck = (long)C * K;
  /* Z 48 floats past the end of V: the chunk sizes often put V_q and Z_q a multiple of 4 KB
   * apart, and the products' loads of both then ran 1-3% slower (one thread, AMD EPYC). */
  float *const vz = scratch, *const zz = scratch + 16 * ct * C + 48;
  for (int q = 4 * q0; q < 4 * q1; q++) zero(du + q * ck, ck);
  const int G = B * th;
  for (int g0 = 0; g0 < G; g0 += rows) {
    const int gn = G - g0 < rows ? G - g0 : rows;
    for (int r = 0; r < gn; r++) {
      const int b = (g0 + r) / th, i = (g0 + r) % th;
      float *const v = vz + (long)r * tw * C, *const z = zz + (long)r * tw * K;
#define VQ(q) v + (q) * ct * C
#define ZQ(q) z + (q) * ct * K
      /* One tile row: image b's tile row i, as wino_input and wino_dy compute it. */
      input_tiles(x + (long)b * H * W * C, 1, H, W, C, pt - 2 * i, pl, 1, tw, 0, 0, q0, q1,
                  VQ(0), VQ(1), VQ(2), VQ(3), VQ(4), VQ(5), VQ(6), VQ(7), VQ(8), VQ(9), VQ(10),
                  VQ(11), VQ(12), VQ(13), VQ(14), VQ(15));
      dy_tiles(dy + (long)(b * OH + 2 * i) * OW * K, 1, OH - 2 * i, OW, K, 1, tw, q0, q1,
               ZQ(0), ZQ(1), ZQ(2), ZQ(3), ZQ(4), ZQ(5), ZQ(6), ZQ(7), ZQ(8), ZQ(9), ZQ(10),
               ZQ(11), ZQ(12), ZQ(13), ZQ(14), ZQ(15));
#undef VQ
#undef ZQ
    }
    for (int q = 4 * q0; q < 4 * q1; q++) {
      acc_atb(vz + q * ct * C, C, zz + q * ct * K, du + q * ck, gn * tw, C, K);
    }
  }
}

/*
 * Filter gradient, step 2: dg = G^T dU G (4x4 -> 3x3) for each (c, k). du0..du15: [C,K];
 * dg: [3,3,C,K]; n = C*K (a multiple of 4).
 */
EXPORT("wino_filter_grad")
void wino_filter_grad(float *dg, int n, const float *u0, const float *u1, const float *u2,
                      const float *u3, const float *u4, const float *u5, const float *u6,
                      const float *u7, const float *u8, const float *u9, const float *u10,
                      const float *u11, const float *u12, const float *u13, const float *u14,
                      const float *u15) {
  const V h = wasm_f32x4_splat(0.5f);
  for (int e = 0; e < n; e += 4) {
    /* rows of G^T dU: (u0 + (u1 + u2)/2, (u1 - u2)/2, (u1 + u2)/2 + u3) over rows u0..u3 */
#define COLS(a, b, c, d, r0, r1, r2)                                                        \
  {                                                                                         \
    const V _a = LD(a + e), _b = LD(b + e), _c = LD(c + e), _d = LD(d + e);                 \
    const V _p = MUL(h, ADD(_b, _c));                                                       \
    r0 = ADD(_a, _p); r1 = MUL(h, SUB(_b, _c)); r2 = ADD(_p, _d);                           \
  }
    V s00, s10, s20, s01, s11, s21, s02, s12, s22, s03, s13, s23; /* s<row><col> */
    COLS(u0, u4, u8, u12, s00, s10, s20)
    COLS(u1, u5, u9, u13, s01, s11, s21)
    COLS(u2, u6, u10, u14, s02, s12, s22)
    COLS(u3, u7, u11, u15, s03, s13, s23)
#undef COLS
#define OUT(r)                                                                              \
  {                                                                                         \
    const V _p = MUL(h, ADD(s##r##1, s##r##2));                                             \
    ST(dg + (3 * r + 0) * n + e, ADD(s##r##0, _p));                                         \
    ST(dg + (3 * r + 1) * n + e, MUL(h, SUB(s##r##1, s##r##2)));                            \
    ST(dg + (3 * r + 2) * n + e, ADD(_p, s##r##3));                                         \
  }
    OUT(0) OUT(1) OUT(2)
#undef OUT
  }
}

static inline __attribute__((always_inline)) void output_tiles(
    float *y, int B, int OH, int OW, int K, int th, int tw, int T, int transposed,
    const float *bias, int relu, const float *m0, const float *m1, const float *m2,
    const float *m3, const float *m4, const float *m5, const float *m6, const float *m7,
    const float *m8, const float *m9, const float *m10, const float *m11, const float *m12,
    const float *m13, const float *m14, const float *m15) {
  const V z = wasm_f32x4_splat(0.0f);
  int t = 0;
  for (int b = 0; b < B; b++) {
    for (int i = 0; i < th; i++) {
      const int oy = 2 * i, two_rows = oy + 1 < OH;
      for (int j = 0; j < tw; j++, t++) {
        const int ox = 2 * j, two_cols = ox + 1 < OW;
        float *q = y + ((long)(b * OH + oy) * OW + ox) * K;
        const int o = t * K;
        for (int k = 0; k < K; k += 4) {
          const int e = o + k;
          const int f = k * T + t;
          /* [T, K] rows, or [K, T] (gathered) when transposed */
#define GET(p) (transposed ? wasm_f32x4_make(p[f], p[f + T], p[f + 2 * T], p[f + 3 * T]) \
                           : LD(p + e))
          /* s = A^T M (rows) */
          V a0 = GET(m0), a1 = GET(m1), a2 = GET(m2), a3 = GET(m3);
          V b0 = GET(m4), b1 = GET(m5), b2 = GET(m6), b3 = GET(m7);
          V c0 = GET(m8), c1 = GET(m9), c2 = GET(m10), c3 = GET(m11);
          V d0 = GET(m12), d1 = GET(m13), d2 = GET(m14), d3 = GET(m15);
#undef GET
          V s00 = ADD(ADD(a0, b0), c0), s01 = ADD(ADD(a1, b1), c1);
          V s02 = ADD(ADD(a2, b2), c2), s03 = ADD(ADD(a3, b3), c3);
          V s10 = SUB(SUB(b0, c0), d0), s11 = SUB(SUB(b1, c1), d1);
          V s12 = SUB(SUB(b2, c2), d2), s13 = SUB(SUB(b3, c3), d3);
          /* Y = s A (columns) */
          V y00 = ADD(ADD(s00, s01), s02), y01 = SUB(SUB(s01, s02), s03);
          V y10 = ADD(ADD(s10, s11), s12), y11 = SUB(SUB(s11, s12), s13);
          if (bias) {
            const V bv = LD(bias + k);
            y00 = ADD(y00, bv); y01 = ADD(y01, bv); y10 = ADD(y10, bv); y11 = ADD(y11, bv);
          }
          if (relu) {
            y00 = wasm_f32x4_max(y00, z); y01 = wasm_f32x4_max(y01, z);
            y10 = wasm_f32x4_max(y10, z); y11 = wasm_f32x4_max(y11, z);
          }
          ST(q + k, y00);
          if (two_cols) ST(q + K + k, y01);
          if (two_rows) {
            ST(q + OW * K + k, y10);
            if (two_cols) ST(q + OW * K + K + k, y11);
          }
        }
      }
    }
  }
}

/*
 * Output transform. m0..m15: [B*th*tw, K] each; y: [B,OH,OW,K] NHWC, K a multiple of 4.
 * bias: [K] or 0; relu: 0 or 1. Tile (i, j) writes rows 2i, 2i+1 and columns 2j, 2j+1 that
 * lie inside the output.
 */
EXPORT("wino_output")
void wino_output(float *y, int B, int OH, int OW, int K, int th, int tw, const float *bias,
                 int relu, const float *m0, const float *m1, const float *m2,
                 const float *m3, const float *m4, const float *m5, const float *m6,
                 const float *m7, const float *m8, const float *m9, const float *m10,
                 const float *m11, const float *m12, const float *m13, const float *m14,
                 const float *m15) {
  output_tiles(y, B, OH, OW, K, th, tw, 0, 0, bias, relu, m0, m1, m2, m3, m4, m5, m6, m7, m8,
               m9, m10, m11, m12, m13, m14, m15);
}

/*
 * The same from transposed products: m0..m15 are [K, T] rows of stride T (at least B*th*tw;
 * see wino_input_t for calls on part of a batch).
 */
EXPORT("wino_output_t")
void wino_output_t(float *y, int B, int OH, int OW, int K, int th, int tw, int T,
                   const float *bias, int relu, const float *m0, const float *m1,
                   const float *m2, const float *m3, const float *m4, const float *m5,
                   const float *m6, const float *m7, const float *m8, const float *m9,
                   const float *m10, const float *m11, const float *m12, const float *m13,
                   const float *m14, const float *m15) {
  output_tiles(y, B, OH, OW, K, th, tw, T, 1, bias, relu, m0, m1, m2, m3, m4, m5, m6, m7, m8,
               m9, m10, m11, m12, m13, m14, m15);
}

/* ---- F(4x4, 3x3): 6x6 tiles, 36 products per tile of 16 outputs (Lavin & Gray, points
 * 0, ±1, ±2). Loops have constant trip counts and constant indices so that clang keeps every
 * array in locals (checked: no stack pointer use). ---- */

#define F43_PTRS(p)                                                                         \
  float *p##0, float *p##1, float *p##2, float *p##3, float *p##4, float *p##5,             \
      float *p##6, float *p##7, float *p##8, float *p##9, float *p##10, float *p##11,       \
      float *p##12, float *p##13, float *p##14, float *p##15, float *p##16, float *p##17,   \
      float *p##18, float *p##19, float *p##20, float *p##21, float *p##22, float *p##23,   \
      float *p##24, float *p##25, float *p##26, float *p##27, float *p##28, float *p##29,   \
      float *p##30, float *p##31, float *p##32, float *p##33, float *p##34, float *p##35
#define F43_LIST(p)                                                                         \
  p##0, p##1, p##2, p##3, p##4, p##5, p##6, p##7, p##8, p##9, p##10, p##11, p##12, p##13,   \
      p##14, p##15, p##16, p##17, p##18, p##19, p##20, p##21, p##22, p##23, p##24, p##25,   \
      p##26, p##27, p##28, p##29, p##30, p##31, p##32, p##33, p##34, p##35

static inline __attribute__((always_inline)) V S(float f) { return wasm_f32x4_splat(f); }

/* G (6x3) applied to a column of 3: out[0..5]. */
#define G6(o, a, b, c)                                                                      \
  do {                                                                                      \
    V _ac = ADD(a, c);                                                                      \
    o##0 = MUL(S(0.25f), a);                                                                \
    o##1 = MUL(S(-1.0f / 6), ADD(_ac, b));                                                  \
    o##2 = MUL(S(-1.0f / 6), SUB(_ac, b));                                                  \
    V _p = ADD(MUL(S(1.0f / 24), a), MUL(S(1.0f / 6), c));                                  \
    V _q = MUL(S(1.0f / 12), b);                                                            \
    o##3 = ADD(_p, _q);                                                                     \
    o##4 = SUB(_p, _q);                                                                     \
    o##5 = c;                                                                               \
  } while (0)

/* The 36 F(4x4) transforms of filter g [3, 3, C, K] (n = C·K) for elements e0 .. e1 - 1 (a
 * multiple of 4 apart): each element is computed alone, so calls for disjoint ranges may run on
 * different threads. */
EXPORT("wino43_filter")
void wino43_filter(const float *g, int n, int e0, int e1, F43_PTRS(u)) {
  for (int e = e0; e < e1; e += 4) {
    V t00, t01, t02, t03, t04, t05, t10, t11, t12, t13, t14, t15, t20, t21, t22, t23, t24,
        t25;
    /* t = G g : column j of g (3 rows) -> 6 rows */
    G6(t0, LD(g + 0 * n + e), LD(g + 3 * n + e), LD(g + 6 * n + e));
    G6(t1, LD(g + 1 * n + e), LD(g + 4 * n + e), LD(g + 7 * n + e));
    G6(t2, LD(g + 2 * n + e), LD(g + 5 * n + e), LD(g + 8 * n + e));
    /* U = t G^T : row i of t (3 columns) -> 6 */
    V r0, r1, r2, r3, r4, r5;
#define ROW(i, a, b, c, d, f, h)                                                            \
  G6(r, t0##i, t1##i, t2##i);                                                               \
  ST(a + e, r0); ST(b + e, r1); ST(c + e, r2); ST(d + e, r3); ST(f + e, r4); ST(h + e, r5);
    ROW(0, u0, u1, u2, u3, u4, u5)
    ROW(1, u6, u7, u8, u9, u10, u11)
    ROW(2, u12, u13, u14, u15, u16, u17)
    ROW(3, u18, u19, u20, u21, u22, u23)
    ROW(4, u24, u25, u26, u27, u28, u29)
    ROW(5, u30, u31, u32, u33, u34, u35)
#undef ROW
  }
}

/* B^T (6x6) applied to a column of 6: out[0..5]. */
#define BT6(o, d0, d1, d2, d3, d4, d5)                                                      \
  do {                                                                                      \
    V _a = SUB(d4, MUL(S(4.0f), d2)); /* d4 - 4 d2 */                                       \
    V _b = SUB(d3, MUL(S(4.0f), d1)); /* d3 - 4 d1 */                                       \
    V _c = SUB(d4, d2);                                                                     \
    V _d = MUL(S(2.0f), SUB(d3, d1));                                                       \
    o##0 = ADD(SUB(MUL(S(4.0f), d0), MUL(S(5.0f), d2)), d4);                                \
    o##1 = ADD(_a, _b);                                                                     \
    o##2 = SUB(_a, _b);                                                                     \
    o##3 = ADD(_c, _d);                                                                     \
    o##4 = SUB(_c, _d);                                                                     \
    o##5 = ADD(SUB(MUL(S(4.0f), d1), MUL(S(5.0f), d3)), d5);                                \
  } while (0)

/*
 * F(4x4, 3x3) input tiles of the tile rows g0 .. g1 - 1 (row g: image g / th, tile row g % th)
 * of x [B,H,W,C]: tile j of row g is row (g - g0) * tw + j of each v0..v35 ([.., C]).
 */
static inline __attribute__((always_inline)) void input43_rows(
    const float *x, int H, int W, int C, int pt, int pl, int th, int tw, int g0, int g1,
    F43_PTRS(v)) {
  const V z = wasm_f32x4_splat(0.0f);
  int t = 0;
  for (int r = g0; r < g1; r++) {
    const int b = r / th, i = r % th;
    {
      const int y0 = 4 * i - pt;
      const int r0 = y0 >= 0 && y0 < H, r1 = y0 + 1 >= 0 && y0 + 1 < H;
      const int r2 = y0 + 2 >= 0 && y0 + 2 < H, r3 = y0 + 3 >= 0 && y0 + 3 < H;
      const int r4 = y0 + 4 >= 0 && y0 + 4 < H, r5 = y0 + 5 >= 0 && y0 + 5 < H;
      for (int j = 0; j < tw; j++, t++) {
        const int x0 = 4 * j - pl;
        const int c0 = x0 >= 0 && x0 < W, c1 = x0 + 1 >= 0 && x0 + 1 < W;
        const int c2 = x0 + 2 >= 0 && x0 + 2 < W, c3 = x0 + 3 >= 0 && x0 + 3 < W;
        const int c4 = x0 + 4 >= 0 && x0 + 4 < W, c5 = x0 + 5 >= 0 && x0 + 5 < W;
        const float *base = x + ((long)(b * H + y0) * W + x0) * C;
        const int rs = W * C;
        const int o = t * C;
        /* Inside the image (most tiles): no bounds test per load. */
        const int inner = r0 && r5 && c0 && c5;
        for (int c = 0; c < C; c += 4) {
          const float *p = base + c;
          /* s = B^T d, one column (image column cc) at a time: s<row><col> */
          V s00, s10, s20, s30, s40, s50, s01, s11, s21, s31, s41, s51, s02, s12, s22, s32,
              s42, s52, s03, s13, s23, s33, s43, s53, s04, s14, s24, s34, s44, s54, s05, s15,
              s25, s35, s45, s55;
#define L(rr, cc) (inner || ((r##rr) && (c##cc)) ? LD(p + (rr) * rs + (cc) * C) : z)
#define COL(cc)                                                                             \
  {                                                                                         \
    V _0 = L(0, cc), _1 = L(1, cc), _2 = L(2, cc), _3 = L(3, cc), _4 = L(4, cc),            \
      _5 = L(5, cc);                                                                        \
    BT6(s##cc, _0, _1, _2, _3, _4, _5);                                                     \
  }
          /* BT6 writes s<cc><k>: here the first index is the column, the second the row */
          COL(0) COL(1) COL(2) COL(3) COL(4) COL(5)
#undef COL
#undef L
          /* V = s B : for each transformed row k, combine the 6 columns */
          V q0, q1, q2, q3, q4, q5;
#define ROW(k, a, bb, cc, dd, ee, ff)                                                       \
  BT6(q, s0##k, s1##k, s2##k, s3##k, s4##k, s5##k);                                         \
  ST(a + o + c, q0); ST(bb + o + c, q1); ST(cc + o + c, q2);                                \
  ST(dd + o + c, q3); ST(ee + o + c, q4); ST(ff + o + c, q5);
          ROW(0, v0, v1, v2, v3, v4, v5)
          ROW(1, v6, v7, v8, v9, v10, v11)
          ROW(2, v12, v13, v14, v15, v16, v17)
          ROW(3, v18, v19, v20, v21, v22, v23)
          ROW(4, v24, v25, v26, v27, v28, v29)
          ROW(5, v30, v31, v32, v33, v34, v35)
#undef ROW
        }
      }
    }
  }
}

EXPORT("wino43_input")
void wino43_input(const float *x, int B, int H, int W, int C, int pt, int pl, int th, int tw,
                  F43_PTRS(v)) {
  input43_rows(x, H, W, C, pt, pl, th, tw, 0, B * th, F43_LIST(v));
}

/* A^T (4x6) applied to a column of 6: out[0..3]. */
#define AT4(o, m0, m1, m2, m3, m4, m5)                                                      \
  do {                                                                                      \
    V _a = ADD(m1, m2), _b = SUB(m1, m2), _c = ADD(m3, m4), _d = SUB(m3, m4);               \
    o##0 = ADD(ADD(m0, _a), _c);                                                            \
    o##1 = ADD(_b, MUL(S(2.0f), _d));                                                       \
    o##2 = ADD(_a, MUL(S(4.0f), _c));                                                       \
    o##3 = ADD(ADD(_b, MUL(S(8.0f), _d)), m5);                                              \
  } while (0)

/* Bias, then relu if asked, on the vectors o0 .. o3 (o4, o5 with BIAS_RELU6); bv, z and relu
 * are the output loop's. */
#define BIAS_RELU4(o)                                                                       \
  o##0 = ADD(o##0, bv); o##1 = ADD(o##1, bv); o##2 = ADD(o##2, bv); o##3 = ADD(o##3, bv);   \
  if (relu) {                                                                               \
    o##0 = wasm_f32x4_max(o##0, z); o##1 = wasm_f32x4_max(o##1, z);                         \
    o##2 = wasm_f32x4_max(o##2, z); o##3 = wasm_f32x4_max(o##3, z);                         \
  }
#define BIAS_RELU6(o)                                                                       \
  BIAS_RELU4(o)                                                                             \
  o##4 = ADD(o##4, bv); o##5 = ADD(o##5, bv);                                               \
  if (relu) { o##4 = wasm_f32x4_max(o##4, z); o##5 = wasm_f32x4_max(o##5, z); }

/* One 2x2 window of two output rows (a: the upper, b: the lower), columns l and l + 1, as
 * maxpool2 (pool.c) takes it: the same pmax chain in the same order, so the same bits. */
#define POOL2(a, b, l, l1)                                                                  \
  wasm_f32x4_pmax(wasm_f32x4_pmax(wasm_f32x4_pmax(a##l, a##l1), b##l), b##l1)

/*
 * F(4x4, 3x3) output tiles of the tile rows g0 .. g1 - 1 into y [B,OH,OW,K] (+ bias, relu):
 * tile j of row g from row (g - g0) * tw + j of each m0..m35 ([.., K]). With `pool`, y is the
 * 2x2 stride-2 max pool of that output instead, [B, OH / 2, OW / 2, K] (an odd last row or
 * column dropped, as maxpool2): the tiles start at even rows and columns, so every window lies
 * in one tile.
 */
static inline __attribute__((always_inline)) void output43_rows(
    float *y, int OH, int OW, int K, int th, int tw, int g0, int g1, const float *bias,
    int relu, int pool, F43_PTRS(m)) {
  const int PH = OH / 2, PW = OW / 2;
  const V z = wasm_f32x4_splat(0.0f);
  int t = 0;
  for (int r = g0; r < g1; r++) {
    const int b = r / th, i = r % th;
    {
      const int oy = 4 * i;
      const int nr = OH - oy < 4 ? OH - oy : 4;
      for (int j = 0; j < tw; j++, t++) {
        const int ox = 4 * j;
        const int nc = OW - ox < 4 ? OW - ox : 4;
        float *q = y + ((long)(b * OH + oy) * OW + ox) * K;
        float *qp = y + ((long)(b * PH + oy / 2) * PW + ox / 2) * K;
        const int o = t * K;
        for (int k = 0; k < K; k += 4) {
          const int e = o + k;
          const V bv = bias ? LD(bias + k) : z;
          /* s = A^T M : column cc of M (6 rows) -> 4 rows: s<cc><r> */
          V s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33,
              s40, s41, s42, s43, s50, s51, s52, s53;
#define COL(cc, a, bb, c2, d, f, h) AT4(s##cc, LD(a + e), LD(bb + e), LD(c2 + e), LD(d + e), LD(f + e), LD(h + e));
          COL(0, m0, m6, m12, m18, m24, m30)
          COL(1, m1, m7, m13, m19, m25, m31)
          COL(2, m2, m8, m14, m20, m26, m32)
          COL(3, m3, m9, m15, m21, m27, m33)
          COL(4, m4, m10, m16, m22, m28, m34)
          COL(5, m5, m11, m17, m23, m29, m35)
#undef COL
          /* Y = s A : output row r from the 6 columns */
          V w0, w1, w2, w3, u0, u1, u2, u3;
#define ROWY(o, r)                                                                          \
  AT4(o, s0##r, s1##r, s2##r, s3##r, s4##r, s5##r);                                         \
  BIAS_RELU4(o)
#define OUT(r)                                                                              \
  if (r < nr) {                                                                             \
    ROWY(w, r);                                                                             \
    float *qr = q + (r) * OW * K + k;                                                       \
    ST(qr, w0);                                                                             \
    if (nc > 1) ST(qr + K, w1);                                                             \
    if (nc > 2) ST(qr + 2 * K, w2);                                                         \
    if (nc > 3) ST(qr + 3 * K, w3);                                                         \
  }
#define POOLED(r, r1)                                                                       \
  if (r1 < nr && nc > 1) {                                                                  \
    ROWY(w, r);                                                                             \
    ROWY(u, r1);                                                                            \
    float *qr = qp + (r / 2) * PW * K + k;                                                  \
    ST(qr, POOL2(w, u, 0, 1));                                                              \
    if (nc > 3) ST(qr + K, POOL2(w, u, 2, 3));                                              \
  }
          if (pool) {
            POOLED(0, 1) POOLED(2, 3)
          } else {
            OUT(0) OUT(1) OUT(2) OUT(3)
          }
#undef POOLED
#undef OUT
#undef ROWY
        }
      }
    }
  }
}

EXPORT("wino43_output")
void wino43_output(float *y, int B, int OH, int OW, int K, int th, int tw, const float *bias,
                   int relu, F43_PTRS(m)) {
  output43_rows(y, OH, OW, K, th, tw, 0, B * th, bias, relu, 0, F43_LIST(m));
}

/*
 * The fused F(4x4, 3x3) convolution: input tiles, the 36 products and output tiles a chunk of
 * `rows` tile rows at a time, all in `scratch` (36 x [rows·tw, C] then 36 x [rows·tw, K]), so
 * the tile matrices stay in cache instead of going through memory (wino43_input, gemm_ab,
 * wino43_output, which for a 128 x 48 x 48 x 16 layer move about 170 MB). Tile rows r0 .. r1 - 1
 * of the batch (row r: image r / th, tile row r % th): calls for disjoint rows run on different
 * threads. up: the filter's 36 transforms packed by wino_pack8, [36, C·K]; K a multiple of 8.
 * Each step computes what the three separate kernels do, in the same order: the same bits.
 * With `pool`, y is the output's 2x2 max pool (see output43_rows).
 */
#define OFFS36(p, s)                                                                        \
  p, p + (s), p + 2 * (s), p + 3 * (s), p + 4 * (s), p + 5 * (s), p + 6 * (s), p + 7 * (s),  \
      p + 8 * (s), p + 9 * (s), p + 10 * (s), p + 11 * (s), p + 12 * (s), p + 13 * (s),     \
      p + 14 * (s), p + 15 * (s), p + 16 * (s), p + 17 * (s), p + 18 * (s), p + 19 * (s),   \
      p + 20 * (s), p + 21 * (s), p + 22 * (s), p + 23 * (s), p + 24 * (s), p + 25 * (s),   \
      p + 26 * (s), p + 27 * (s), p + 28 * (s), p + 29 * (s), p + 30 * (s), p + 31 * (s),   \
      p + 32 * (s), p + 33 * (s), p + 34 * (s), p + 35 * (s)

/* C = A P: A [M, K] (row stride K), P packed panels (N / 8 of [K, 8]), C [M, N]. */
static __attribute__((noinline)) void ab_packed(const float *A, const float *P, float *Cm,
                                                int M, int N, int K) {
  for (int n = 0; n < N; n += 8) {
    const float *panel = P + (long)n * K;
    int m = 0;
    for (; m + 4 <= M; m += 4) ab_4x8(A + (long)m * K, panel, Cm + (long)m * N + n, K, N);
    for (; m < M; m++) ab_1x8(A + (long)m * K, panel, Cm + (long)m * N + n, K);
  }
}

EXPORT("wino43_conv")
void wino43_conv(const float *x, int H, int W, int C, int pt, int pl, float *y, int OH, int OW,
                 int K, int th, int tw, int r0, int r1, int rows, const float *bias, int relu,
                 int pool, float *scratch, const float *up) {
  /* Component strides a cache line longer than the tiles, as wino63_conv's: ResNet-18's
   * 16 x 16 x 64 layer at batch 32 (8 tile rows of 4) had them 8 KB apart, and ran 1.4x slower. */
  const long sv = (long)rows * tw * C + 16, sm = (long)rows * tw * K + 16, su = (long)C * K;
  float *v = scratch, *m = scratch + 36 * sv;
  for (int ra = r0; ra < r1; ra += rows) {
    const int rb = r1 - ra < rows ? r1 : ra + rows;
    input43_rows(x, H, W, C, pt, pl, th, tw, ra, rb, OFFS36(v, sv));
    const int n = (rb - ra) * tw;
    for (int q = 0; q < 36; q++) ab_packed(v + q * sv, up + q * su, m + q * sm, n, K, C);
    output43_rows(y, OH, OW, K, th, tw, ra, rb, bias, relu, pool, OFFS36(m, sm));
  }
}

/*
 * One filter transform component u [C, K] as K / 8 panels [C, 8] (columns 8p .. 8p + 7, row
 * after row) in p: the layout gemm_ab copies each panel into, made once per filter.
 */
EXPORT("wino_pack8")
void wino_pack8(const float *u, float *p, int C, int K) {
  for (int n = 0; n < K; n += 8) {
    const float *b = u + n;
    for (int c = 0; c < C; c++, b += K, p += 8) {
      ST(p, LD(b));
      ST(p + 4, LD(b + 4));
    }
  }
}

/* ---- F(6x6, 3x3): 8x8 tiles, 64 products per tile of 36 outputs (Lavin & Gray's
 * construction with the points 0, ±1, ±2, ±1/2 and ∞, as NNPACK's; the matrices were checked
 * against a direct correlation in float64). winograd.ts takes it where it needs at most 0.8 of
 * F(4x4)'s products (every stage of the quick preset; at 6 x 6 one tile of 64 products per image
 * against F(4x4)'s four of 36); its transforms scale terms by up to 32, so it rounds more.
 * Only fused (wino63_conv); the components of a tile set are `s` floats apart. ---- */

/* G (8x3) applied to a column of 3: out[0..7]. */
#define G8(o, a, b, c)                                                                      \
  do {                                                                                      \
    V _ac = ADD(a, c);                                                                      \
    o##0 = a;                                                                               \
    o##1 = MUL(S(-2.0f / 9), ADD(_ac, b));                                                  \
    o##2 = MUL(S(-2.0f / 9), SUB(_ac, b));                                                  \
    V _p = ADD(MUL(S(1.0f / 90), a), MUL(S(2.0f / 45), c));                                 \
    V _q = MUL(S(1.0f / 45), b);                                                            \
    o##3 = ADD(_p, _q);                                                                     \
    o##4 = SUB(_p, _q);                                                                     \
    V _r = ADD(MUL(S(32.0f / 45), a), MUL(S(8.0f / 45), c));                                \
    V _s = MUL(S(16.0f / 45), b);                                                           \
    o##5 = ADD(_r, _s);                                                                     \
    o##6 = SUB(_r, _s);                                                                     \
    o##7 = c;                                                                               \
  } while (0)

/*
 * The 64 F(6x6) transforms of filter g [3, 3, C, K] for input channels c0 .. c1 - 1, written
 * straight into the fused convolution's packed layout: component q in up + q·(C·K + 16), as
 * K / 8 panels [C, 8] (see wino_pack8). The 16 floats keep the 64 components' stores off one
 * cache set: C·K a power of two apart (128 x 128: 64 KB) they took a fresh filter's transform
 * from about 0.2 ms to 1.4 (L1 and L2 alike). K a multiple of 8. Each element is computed
 * alone, so calls for disjoint channel ranges may run on different threads.
 */
EXPORT("wino63_filter")
void wino63_filter(const float *g, int C, int K, int c0, int c1, float *up) {
  const long n = (long)C * K, su = n + 16;
  for (int c = c0; c < c1; c++) {
    for (int k = 0; k < K; k += 4) {
      const long e = (long)c * K + k;
      float *p = up + (long)(k >> 3) * C * 8 + c * 8 + (k & 7);
      V t00, t01, t02, t03, t04, t05, t06, t07, t10, t11, t12, t13, t14, t15, t16, t17, t20,
          t21, t22, t23, t24, t25, t26, t27;
      /* t = G g : column j of g (3 rows) -> 8 rows */
      G8(t0, LD(g + 0 * n + e), LD(g + 3 * n + e), LD(g + 6 * n + e));
      G8(t1, LD(g + 1 * n + e), LD(g + 4 * n + e), LD(g + 7 * n + e));
      G8(t2, LD(g + 2 * n + e), LD(g + 5 * n + e), LD(g + 8 * n + e));
      /* U = t G^T : row i of t (3 columns) -> 8, component 8i + l */
      V r0, r1, r2, r3, r4, r5, r6, r7;
#define ROW(i)                                                                              \
  G8(r, t0##i, t1##i, t2##i);                                                               \
  ST(p + (8 * i + 0) * su, r0); ST(p + (8 * i + 1) * su, r1);                               \
  ST(p + (8 * i + 2) * su, r2); ST(p + (8 * i + 3) * su, r3);                               \
  ST(p + (8 * i + 4) * su, r4); ST(p + (8 * i + 5) * su, r5);                               \
  ST(p + (8 * i + 6) * su, r6); ST(p + (8 * i + 7) * su, r7);
      ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7)
#undef ROW
    }
  }
}

/* B^T (8x8) applied to a column of 8: out[0..7]. */
#define BT8(o, d0, d1, d2, d3, d4, d5, d6, d7)                                              \
  do {                                                                                      \
    V _t1 = ADD(SUB(d2, MUL(S(4.25f), d4)), d6);                                            \
    V _t2 = ADD(SUB(d1, MUL(S(4.25f), d3)), d5);                                            \
    V _t3 = ADD(SUB(MUL(S(0.25f), d2), MUL(S(1.25f), d4)), d6);                             \
    V _t4 = ADD(SUB(MUL(S(0.5f), d1), MUL(S(2.5f), d3)), MUL(S(2.0f), d5));                 \
    V _t5 = ADD(SUB(MUL(S(4.0f), d2), MUL(S(5.0f), d4)), d6);                               \
    V _t6 = ADD(SUB(MUL(S(2.0f), d1), MUL(S(2.5f), d3)), MUL(S(0.5f), d5));                 \
    o##0 = ADD(SUB(d0, d6), MUL(S(5.25f), SUB(d4, d2)));                                    \
    o##1 = ADD(_t1, _t2);                                                                   \
    o##2 = SUB(_t1, _t2);                                                                   \
    o##3 = ADD(_t3, _t4);                                                                   \
    o##4 = SUB(_t3, _t4);                                                                   \
    o##5 = ADD(_t5, _t6);                                                                   \
    o##6 = SUB(_t5, _t6);                                                                   \
    o##7 = ADD(SUB(d7, d1), MUL(S(5.25f), SUB(d3, d5)));                                    \
  } while (0)

#define IN63(a, n) ((a) >= 0 && (a) < (n))

/*
 * F(6x6, 3x3) input tiles of the tile rows g0 .. g1 - 1 (row g: image g / th, tile row g % th)
 * of x [B,H,W,C]: tile j of row g is row (g - g0) * tw + j of component q, at v + q·sv.
 */
static inline __attribute__((always_inline)) void input63_rows(
    const float *x, int H, int W, int C, int pt, int pl, int th, int tw, int g0, int g1,
    float *v, long sv) {
  const V z = wasm_f32x4_splat(0.0f);
  int t = 0;
  for (int r = g0; r < g1; r++) {
    const int b = r / th, i = r % th;
    const int y0 = 6 * i - pt;
    const int r0 = IN63(y0, H), r1 = IN63(y0 + 1, H), r2 = IN63(y0 + 2, H);
    const int r3 = IN63(y0 + 3, H), r4 = IN63(y0 + 4, H), r5 = IN63(y0 + 5, H);
    const int r6 = IN63(y0 + 6, H), r7 = IN63(y0 + 7, H);
    for (int j = 0; j < tw; j++, t++) {
      const int x0 = 6 * j - pl;
      const int c0 = IN63(x0, W), c1 = IN63(x0 + 1, W), c2 = IN63(x0 + 2, W);
      const int c3 = IN63(x0 + 3, W), c4 = IN63(x0 + 4, W), c5 = IN63(x0 + 5, W);
      const int c6 = IN63(x0 + 6, W), c7 = IN63(x0 + 7, W);
      const float *base = x + ((long)(b * H + y0) * W + x0) * C;
      const int rs = W * C;
      float *o = v + (long)t * C;
      const int inner = r0 && r7 && c0 && c7;
      for (int c = 0; c < C; c += 4) {
        const float *p = base + c;
        /* Pass 1, s = B^T d: image column l -> its 8 transformed rows k, into slot 8k + l. Pass
         * 2, V = s B: slots 8k .. 8k + 7 (row k of s) -> component 8k + l, in place. Through the
         * tile's own slots (in L1) instead of 64 values held at once, which V8 spills. */
        float *oc = o + c;
        V _0, _1, _2, _3, _4, _5, _6, _7, q0, q1, q2, q3, q4, q5, q6, q7;
#define L(rr, cc) (inner || ((r##rr) && (c##cc)) ? LD(p + (rr) * rs + (cc) * C) : z)
#define PUT(k, l, val) ST(oc + (8 * (k) + (l)) * sv, val)
#define COL(l)                                                                              \
  _0 = L(0, l); _1 = L(1, l); _2 = L(2, l); _3 = L(3, l);                                  \
  _4 = L(4, l); _5 = L(5, l); _6 = L(6, l); _7 = L(7, l);                                  \
  BT8(q, _0, _1, _2, _3, _4, _5, _6, _7);                                                   \
  PUT(0, l, q0); PUT(1, l, q1); PUT(2, l, q2); PUT(3, l, q3);                               \
  PUT(4, l, q4); PUT(5, l, q5); PUT(6, l, q6); PUT(7, l, q7);
        COL(0) COL(1) COL(2) COL(3) COL(4) COL(5) COL(6) COL(7)
#undef COL
#undef L
#define GET(k, l) LD(oc + (8 * (k) + (l)) * sv)
#define ROW(k)                                                                              \
  _0 = GET(k, 0); _1 = GET(k, 1); _2 = GET(k, 2); _3 = GET(k, 3);                          \
  _4 = GET(k, 4); _5 = GET(k, 5); _6 = GET(k, 6); _7 = GET(k, 7);                          \
  BT8(q, _0, _1, _2, _3, _4, _5, _6, _7);                                                   \
  PUT(k, 0, q0); PUT(k, 1, q1); PUT(k, 2, q2); PUT(k, 3, q3);                               \
  PUT(k, 4, q4); PUT(k, 5, q5); PUT(k, 6, q6); PUT(k, 7, q7);
        ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7)
#undef ROW
#undef GET
#undef PUT
      }
    }
  }
}

/* A^T (6x8) applied to a column of 8: out[0..5]. */
#define AT6(o, m0, m1, m2, m3, m4, m5, m6, m7)                                              \
  do {                                                                                      \
    V _a = ADD(m1, m2), _b = SUB(m1, m2), _c = ADD(m3, m4), _d = SUB(m3, m4);               \
    V _e = ADD(m5, m6), _f = SUB(m5, m6);                                                   \
    o##0 = ADD(ADD(ADD(m0, _a), _c), _e);                                                   \
    o##1 = ADD(ADD(_b, MUL(S(2.0f), _d)), MUL(S(0.5f), _f));                                \
    o##2 = ADD(ADD(_a, MUL(S(4.0f), _c)), MUL(S(0.25f), _e));                               \
    o##3 = ADD(ADD(_b, MUL(S(8.0f), _d)), MUL(S(0.125f), _f));                              \
    o##4 = ADD(ADD(_a, MUL(S(16.0f), _c)), MUL(S(0.0625f), _e));                            \
    o##5 = ADD(ADD(ADD(_b, MUL(S(32.0f), _d)), MUL(S(0.03125f), _f)), m7);                  \
  } while (0)

/*
 * F(6x6, 3x3) output tiles of the tile rows g0 .. g1 - 1 into y [B,OH,OW,K] (+ bias, relu):
 * tile j of row g from row (g - g0) * tw + j of component q, at m + q·sm. With `pool`, its
 * 2x2 stride-2 max pool instead, as output43_rows.
 */
static inline __attribute__((always_inline)) void output63_rows(
    float *y, int OH, int OW, int K, int th, int tw, int g0, int g1, const float *bias,
    int relu, int pool, const float *m, long sm) {
  const int PH = OH / 2, PW = OW / 2;
  const V z = wasm_f32x4_splat(0.0f);
  int t = 0;
  for (int r = g0; r < g1; r++) {
    const int b = r / th, i = r % th;
    const int oy = 6 * i;
    const int nr = OH - oy < 6 ? OH - oy : 6;
    for (int j = 0; j < tw; j++, t++) {
      const int ox = 6 * j;
      const int nc = OW - ox < 6 ? OW - ox : 6;
      float *q = y + ((long)(b * OH + oy) * OW + ox) * K;
      float *qp = y + ((long)(b * PH + oy / 2) * PW + ox / 2) * K;
      const float *mt = m + (long)t * K;
      for (int k = 0; k < K; k += 4) {
        const float *e = mt + k;
        const V bv = bias ? LD(bias + k) : z;
        /* s = A^T M : column cc of M (8 rows) -> 6 rows: s<cc><r> */
        V s00, s01, s02, s03, s04, s05, s10, s11, s12, s13, s14, s15, s20, s21, s22, s23, s24,
            s25, s30, s31, s32, s33, s34, s35, s40, s41, s42, s43, s44, s45, s50, s51, s52,
            s53, s54, s55, s60, s61, s62, s63, s64, s65, s70, s71, s72, s73, s74, s75;
#define M8(q) LD(e + (q) * sm)
#define COL(cc)                                                                             \
  AT6(s##cc, M8(cc), M8(8 + cc), M8(16 + cc), M8(24 + cc), M8(32 + cc), M8(40 + cc),        \
      M8(48 + cc), M8(56 + cc));
        COL(0) COL(1) COL(2) COL(3) COL(4) COL(5) COL(6) COL(7)
#undef COL
#undef M8
        /* Y = s A : output row r from the 8 columns */
        V w0, w1, w2, w3, w4, w5, u0, u1, u2, u3, u4, u5;
#define ROWY(o, r)                                                                          \
  AT6(o, s0##r, s1##r, s2##r, s3##r, s4##r, s5##r, s6##r, s7##r);                           \
  BIAS_RELU6(o)
#define OUT(r)                                                                              \
  if (r < nr) {                                                                             \
    ROWY(w, r);                                                                             \
    float *qr = q + (r) * OW * K + k;                                                       \
    ST(qr, w0);                                                                             \
    if (nc > 1) ST(qr + K, w1);                                                             \
    if (nc > 2) ST(qr + 2 * K, w2);                                                         \
    if (nc > 3) ST(qr + 3 * K, w3);                                                         \
    if (nc > 4) ST(qr + 4 * K, w4);                                                         \
    if (nc > 5) ST(qr + 5 * K, w5);                                                         \
  }
#define POOLED(r, r1)                                                                       \
  if (r1 < nr && nc > 1) {                                                                  \
    ROWY(w, r);                                                                             \
    ROWY(u, r1);                                                                            \
    float *qr = qp + (r / 2) * PW * K + k;                                                  \
    ST(qr, POOL2(w, u, 0, 1));                                                              \
    if (nc > 3) ST(qr + K, POOL2(w, u, 2, 3));                                              \
    if (nc > 5) ST(qr + 2 * K, POOL2(w, u, 4, 5));                                          \
  }
        if (pool) {
          POOLED(0, 1) POOLED(2, 3) POOLED(4, 5)
        } else {
          OUT(0) OUT(1) OUT(2) OUT(3) OUT(4) OUT(5)
        }
#undef POOLED
#undef OUT
#undef ROWY
      }
    }
  }
}

/*
 * The fused F(6x6, 3x3) convolution, as wino43_conv with 64 components: tile rows r0 .. r1 - 1,
 * `rows` at a time through `scratch` (64 x [rows·tw, C] then 64 x [rows·tw, K]). up: the
 * filter's transforms from wino63_filter, [64, C·K + 16]; K a multiple of 8.
 */
EXPORT("wino63_conv")
void wino63_conv(const float *x, int H, int W, int C, int pt, int pl, float *y, int OH, int OW,
                 int K, int th, int tw, int r0, int r1, int rows, const float *bias, int relu,
                 int pool, float *scratch, const float *up) {
  /* Component strides one cache line longer than the tiles: 64 components a power of two
   * apart (e.g. 16 channels, 8 x 8 tiles of 8 rows: 4 KB) would share a few L1 sets. */
  const long sv = (long)rows * tw * C + 16, sm = (long)rows * tw * K + 16, su = (long)C * K + 16;
  float *v = scratch, *m = scratch + 64 * sv;
  for (int ra = r0; ra < r1; ra += rows) {
    const int rb = r1 - ra < rows ? r1 : ra + rows;
    input63_rows(x, H, W, C, pt, pl, th, tw, ra, rb, v, sv);
    const int n = (rb - ra) * tw;
    for (int q = 0; q < 64; q++) ab_packed(v + q * sv, up + q * su, m + q * sm, n, K, C);
    output63_rows(y, OH, OW, K, th, tw, ra, rb, bias, relu, pool, m, sm);
  }
}
