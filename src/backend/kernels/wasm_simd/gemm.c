/*
 * C = A^T B for byel's WASM backend: A [K, M] and B [K, N] both row-major with the summed
 * dimension K outermost (as the Winograd filter gradient has them: tiles x channels), C [M, N].
 * One pass over A and B per block of 4 x 8 outputs held in 8 accumulators (blocks of 4 x 16
 * keep 22 vectors live, more than V8's 16 registers on x64: 30-34 GFLOP/s on one thread against
 * 32-38 this way, AMD EPYC, the filter gradient's shapes). One call runs on one thread; with
 * A's row stride `lda`, callers split C's rows across threads.
 * tfjs's BatchMatMul would take A^T only through its scalar path, and it repacks any right
 * operand it has not seen before at about 0.2 GB/s, more than the product costs here.
 * M and N multiples of 4. Also the filter gradient of convolutions with narrow patches, and
 * the in-order sum of its chunks' partial gradients; C = A B^T (gemm_abt), and C = A B
 * (gemm_ab, the Winograd convolution's products).
 */
#include "ab.h"
#include "atb.h"

/* Rows of A and B per pass: the slices of both stay in cache while every block of C uses them. */
#define KC 256

/* C = A^T B with A's row stride lda >= M: C's rows m0 .. m0 + M of a wider product are
 * gemm_atb(A + m0, B, C + m0 N, K, M, N, lda), so threads can split the rows. */
EXPORT("gemm_atb")
void gemm_atb(const float *A, const float *B, float *Cm, int K, int M, int N, int lda) {
  zero(Cm, (long)M * N);
  for (int k0 = 0; k0 < K; k0 += KC) {
    const int kn = K - k0 < KC ? K - k0 : KC;
    acc_atb(A + (long)k0 * lda, lda, B + (long)k0 * N, Cm, kn, M, N);
  }
}

/*
 * Filter gradient of a convolution with few input channels (the RGB stem) as patches^T dy,
 * KC patch rows at a time into `scratch` [KC, Mp] so the patch matrix never leaves the cache.
 * x [B,H,W,C]; dy [B*OH*OW, N]; KH x KW filter, strides (sh, sw), top/left padding (pt, pl).
 * Patch row p = (b, oh, ow) holds x[b, oh*sh - pt + i, ow*sw - pl + j, c] at column
 * (i*KW + j)*C + c (the filter's HWIO order), zeros outside the image and in the columns from
 * KH*KW*C up to Mp (a multiple of 4). dw: [Mp, N] (rows past KH*KW*C are zero).
 */
EXPORT("patch_filter_grad")
void patch_filter_grad(const float *x, int B, int H, int W, int C, int KH, int KW, int sh,
                       int sw, int pt, int pl, int OH, int OW, int Mp, const float *dy, int N,
                       float *scratch, float *dw) {
  const int P = B * OH * OW;
  zero(dw, (long)Mp * N);
  for (int p0 = 0; p0 < P; p0 += KC) {
    const int pn = P - p0 < KC ? P - p0 : KC;
    float *o = scratch;
    const int run = KW * C; /* one filter row's taps: KW neighbouring pixels, contiguous in x */
    for (int p = p0; p < p0 + pn; p++, o += Mp) {
      const int ow = p % OW, oh = (p / OW) % OH, b = p / (OW * OH);
      const int x0 = ow * sw - pl;
      int col = 0;
      for (int i = 0; i < KH; i++, col += run) {
        const int y = oh * sh - pt + i;
        float *dst = o + col;
        if (y < 0 || y >= H) {
          for (int t = 0; t < run; t++) dst[t] = 0.0f;
        } else if (x0 >= 0 && x0 + KW <= W) {
          /* Inside the image: the row is one run of KW * C floats, copied by vectors. The
           * RGB stem's scalar copies of 3 floats per tap cost 40% of its filter gradient:
           * 2.8 against 1.7 ms on one thread for 16 images at 48 px, AMD EPYC. */
          const float *src = x + ((long)(b * H + y) * W + x0) * C;
          int t = 0;
          for (; t + 4 <= run; t += 4) ST(dst + t, LD(src + t));
          for (; t < run; t++) dst[t] = src[t];
        } else {
          for (int j = 0; j < KW; j++) {
            const int xx = x0 + j;
            if (xx >= 0 && xx < W) {
              const float *src = x + ((long)(b * H + y) * W + xx) * C;
              for (int c = 0; c < C; c++) dst[j * C + c] = src[c];
            } else {
              for (int c = 0; c < C; c++) dst[j * C + c] = 0.0f;
            }
          }
        }
      }
      for (; col < Mp; col++) o[col] = 0.0f;
    }
    acc_atb(scratch, Mp, dy + (long)p0 * N, dw, pn, Mp, N);
  }
}

/*
 * A convolution with few input channels (the RGB stem) computed directly: y[b, oh, ow, k] =
 * bias[k] (0: +0) plus the products x * w over the taps in the filter's order (row i, column j,
 * channel c), then pmax(0, .) with relu: the order and clamp of XNNPACK's igemm, which tfjs's
 * Conv2D runs. Taps outside the image are skipped where XNNPACK adds the products of zeros,
 * which leave any sum that is not -0 unchanged (NaN or infinite weights aside). x [B, H, W, C],
 * w [KH, KW, C, K] (HWIO), y [B, OH, OW, K]; the output rows (b, oh) from r0 to r1, so threads
 * can split them. K a multiple of 4.
 */

/* The sums' start for channels k .. k + 3: the bias, or +0. */
static inline __attribute__((always_inline)) V narrow_bias(const float *bias, int k) {
  return bias ? LD(bias + k) : wasm_f32x4_splat(0.0f);
}

/* Stores 16 channels' sums at q, through pmax(0, .) with relu. */
static inline __attribute__((always_inline)) void narrow_store16(float *q, V s0, V s1, V s2,
                                                                 V s3, int relu) {
  if (relu) {
    const V zero = wasm_f32x4_splat(0.0f);
    s0 = wasm_f32x4_pmax(zero, s0), s1 = wasm_f32x4_pmax(zero, s1);
    s2 = wasm_f32x4_pmax(zero, s2), s3 = wasm_f32x4_pmax(zero, s3);
  }
  ST(q, s0); ST(q + 4, s1); ST(q + 8, s2); ST(q + 12, s3);
}

/* One output pixel (its filter window from row y0, column x0), every tap tested against the
 * image's edges: K in blocks of 16 sums, then of 4. */
static inline __attribute__((always_inline)) void narrow_pixel(
    const float *xb, int H, int W, int C, const float *w, int KH, int KW, int K, int y0, int x0,
    const float *bias, int relu, float *q) {
  const V zero = wasm_f32x4_splat(0.0f);
#define NARROW_TAPS(BODY)                                                                   \
  for (int i = 0; i < KH; i++) {                                                            \
    const int yy = y0 + i;                                                                  \
    if (yy < 0 || yy >= H) continue;                                                        \
    for (int j = 0; j < KW; j++) {                                                          \
      const int xx = x0 + j;                                                                \
      if (xx < 0 || xx >= W) continue;                                                      \
      const float *px = xb + ((long)yy * W + xx) * C;                                       \
      const float *pw = w + (long)(i * KW + j) * C * K + k;                                 \
      for (int c = 0; c < C; c++, pw += K) {                                                \
        const V xv = wasm_v128_load32_splat(px + c);                                        \
        BODY                                                                                \
      }                                                                                     \
    }                                                                                       \
  }
  int k = 0;
  for (; k + 16 <= K; k += 16) {
    V s0 = narrow_bias(bias, k), s1 = narrow_bias(bias, k + 4);
    V s2 = narrow_bias(bias, k + 8), s3 = narrow_bias(bias, k + 12);
    NARROW_TAPS(s0 = ADD(s0, MUL(xv, LD(pw))); s1 = ADD(s1, MUL(xv, LD(pw + 4)));
                s2 = ADD(s2, MUL(xv, LD(pw + 8))); s3 = ADD(s3, MUL(xv, LD(pw + 12)));)
    narrow_store16(q + k, s0, s1, s2, s3, relu);
  }
  for (; k < K; k += 4) {
    V s = narrow_bias(bias, k);
    NARROW_TAPS(s = ADD(s, MUL(xv, LD(pw)));)
    ST(q + k, relu ? wasm_f32x4_pmax(zero, s) : s);
  }
#undef NARROW_TAPS
}

/* Two neighbouring output pixels with every tap inside the image, K in blocks of 16: each
 * filter row's KW * C taps are contiguous in x (rows rs floats apart, the second pixel `step`
 * floats on), and each weight vector loaded serves both pixels. */
static inline __attribute__((always_inline)) void narrow_pair(const float *px, const float *w,
                                                              int KH, int run, int rs, int K,
                                                              int step, const float *bias,
                                                              int relu, float *q) {
  for (int k = 0; k < K; k += 16) {
    V a0 = narrow_bias(bias, k), a1 = narrow_bias(bias, k + 4);
    V a2 = narrow_bias(bias, k + 8), a3 = narrow_bias(bias, k + 12);
    V b0 = a0, b1 = a1, b2 = a2, b3 = a3;
    const float *pr = px;
    for (int i = 0; i < KH; i++, pr += rs) {
      const float *pw = w + (long)i * run * K + k;
      for (int t = 0; t < run; t++, pw += K) {
        const V u = wasm_v128_load32_splat(pr + t), v = wasm_v128_load32_splat(pr + step + t);
        const V w0 = LD(pw), w1 = LD(pw + 4), w2 = LD(pw + 8), w3 = LD(pw + 12);
        a0 = ADD(a0, MUL(u, w0)); a1 = ADD(a1, MUL(u, w1));
        a2 = ADD(a2, MUL(u, w2)); a3 = ADD(a3, MUL(u, w3));
        b0 = ADD(b0, MUL(v, w0)); b1 = ADD(b1, MUL(v, w1));
        b2 = ADD(b2, MUL(v, w2)); b3 = ADD(b3, MUL(v, w3));
      }
    }
    narrow_store16(q + k, a0, a1, a2, a3, relu);
    narrow_store16(q + K + k, b0, b1, b2, b3, relu);
  }
}

EXPORT("conv_narrow")
void conv_narrow(const float *x, int H, int W, int C, const float *w, int KH, int KW, int K,
                 int sh, int sw, int pt, int pl, int OH, int OW, int r0, int r1,
                 const float *bias, int relu, float *y) {
  /* The output columns whose windows lie inside the image's width: lo .. hi - 1. */
  const int lo = (pl + sw - 1) / sw, hi = W - KW + pl < 0 ? 0 : (W - KW + pl) / sw + 1;
  for (int r = r0; r < r1; r++) {
    const int b = r / OH, oh = r % OH, y0 = oh * sh - pt;
    const float *xb = x + (long)b * H * W * C;
    float *o = y + (long)r * OW * K;
    int ow = 0;
    if (y0 >= 0 && y0 + KH <= H && K % 16 == 0) {
      for (; ow < lo && ow < OW; ow++) {
        narrow_pixel(xb, H, W, C, w, KH, KW, K, y0, ow * sw - pl, bias, relu, o + (long)ow * K);
      }
      for (; ow + 1 < hi && ow + 1 < OW; ow += 2) {
        const float *px = xb + ((long)y0 * W + ow * sw - pl) * C;
        narrow_pair(px, w, KH, KW * C, W * C, K, sw * C, bias, relu, o + (long)ow * K);
      }
    }
    for (; ow < OW; ow++) {
      narrow_pixel(xb, H, W, C, w, KH, KW, K, y0, ow * sw - pl, bias, relu, o + (long)ow * K);
    }
  }
}

/*
 * dst[0..n) = the sum of the count parts at parts + p * stride (floats), added in order; n a
 * multiple of 4. Sums the partial filter gradients of patch_filter_grad's chunks.
 */
EXPORT("sum_parts")
void sum_parts(float *dst, const float *parts, int count, int stride, int n) {
  for (int i = 0; i < n; i += 4) {
    V s = LD(parts + i);
    for (int p = 1; p < count; p++) s = ADD(s, LD(parts + (long)p * stride + i));
    ST(dst + i, s);
  }
}

/*
 * C = A B^T: A [M, K], B [N, K] row-major (dot products along contiguous rows), C [M, N];
 * blocks of 4 x 4 outputs with vector accumulators over k, summed across lanes at the end.
 * tfjs's BatchMatMul takes a transposed right operand only through its scalar path.
 * M, N and K multiples of 4.
 */
static inline __attribute__((always_inline)) float hsum(V v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) +
         wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3);
}

EXPORT("gemm_abt")
void gemm_abt(const float *A, const float *B, float *Cm, int M, int N, int K) {
  for (int m = 0; m < M; m += 4) {
    const float *a0 = A + (long)m * K, *a1 = a0 + K, *a2 = a1 + K, *a3 = a2 + K;
    for (int n = 0; n < N; n += 4) {
      const float *b0 = B + (long)n * K, *b1 = b0 + K, *b2 = b1 + K, *b3 = b2 + K;
      V s00 = wasm_f32x4_splat(0.0f), s01 = s00, s02 = s00, s03 = s00;
      V s10 = s00, s11 = s00, s12 = s00, s13 = s00;
      V s20 = s00, s21 = s00, s22 = s00, s23 = s00;
      V s30 = s00, s31 = s00, s32 = s00, s33 = s00;
      for (int k = 0; k < K; k += 4) {
        const V x0 = LD(a0 + k), x1 = LD(a1 + k), x2 = LD(a2 + k), x3 = LD(a3 + k);
        const V y0 = LD(b0 + k), y1 = LD(b1 + k), y2 = LD(b2 + k), y3 = LD(b3 + k);
        s00 = ADD(s00, MUL(x0, y0)); s01 = ADD(s01, MUL(x0, y1));
        s02 = ADD(s02, MUL(x0, y2)); s03 = ADD(s03, MUL(x0, y3));
        s10 = ADD(s10, MUL(x1, y0)); s11 = ADD(s11, MUL(x1, y1));
        s12 = ADD(s12, MUL(x1, y2)); s13 = ADD(s13, MUL(x1, y3));
        s20 = ADD(s20, MUL(x2, y0)); s21 = ADD(s21, MUL(x2, y1));
        s22 = ADD(s22, MUL(x2, y2)); s23 = ADD(s23, MUL(x2, y3));
        s30 = ADD(s30, MUL(x3, y0)); s31 = ADD(s31, MUL(x3, y1));
        s32 = ADD(s32, MUL(x3, y2)); s33 = ADD(s33, MUL(x3, y3));
      }
      float *c = Cm + (long)m * N + n;
      ST(c, wasm_f32x4_make(hsum(s00), hsum(s01), hsum(s02), hsum(s03)));
      ST(c + N, wasm_f32x4_make(hsum(s10), hsum(s11), hsum(s12), hsum(s13)));
      ST(c + 2 * N, wasm_f32x4_make(hsum(s20), hsum(s21), hsum(s22), hsum(s23)));
      ST(c + 3 * N, wasm_f32x4_make(hsum(s30), hsum(s31), hsum(s32), hsum(s33)));
    }
  }
}

/*
 * C = A B: A [M, K] and B [K, N] row-major (row strides K and N), C [M, N] (row stride N);
 * the Winograd convolution's products, tiles x channels times channels x channels, which
 * tfjs's BatchMatMul would run only after packing its right operand into a new XNNPACK
 * operator (both operands are new every training step). For each panel of 8 columns, B's
 * panel is first copied into `panel` [K, 8] (contiguous: B's rows are often a power-of-two
 * floats apart, which maps a strided panel onto a few cache sets), then every block of 4 x 8
 * outputs of the rows is 4 x 2 accumulators over the whole of K (see ab_4x8). 4-column and
 * single-column tails for N, single rows for M's tail. Any M, N, K; each
 * output is one chain of k-ordered multiply-adds from zero (as XNNPACK's), so the result does
 * not depend on how rows are split across threads.
 */
#define ROWS 4

/* One row of C from column n on: 4-column vectors, then single columns (B unpacked). */
static inline __attribute__((always_inline)) void ab_row(const float *a, const float *B,
                                                        float *c, int K, int N, int n) {
  for (; n + 4 <= N; n += 4) {
    V s = wasm_f32x4_splat(0.0f);
    const float *b = B + n;
    for (int k = 0; k < K; k++, b += N) s = ADD(s, MUL(wasm_v128_load32_splat(a + k), LD(b)));
    ST(c + n, s);
  }
  for (; n < N; n++) {
    float s = 0.0f;
    for (int k = 0; k < K; k++) s += a[k] * B[(long)k * N + n];
    c[n] = s;
  }
}

EXPORT("gemm_ab")
void gemm_ab(const float *A, const float *B, float *Cm, int M, int N, int K, float *panel) {
  const int n8 = N & ~7;
  for (int n = 0; n < n8; n += 8) {
    const float *b = B + n;
    for (int k = 0; k < K; k++, b += N) {
      ST(panel + 8 * k, LD(b));
      ST(panel + 8 * k + 4, LD(b + 4));
    }
    int m = 0;
    for (; m + ROWS <= M; m += ROWS) ab_4x8(A + (long)m * K, panel, Cm + (long)m * N + n, K, N);
    for (; m < M; m++) ab_1x8(A + (long)m * K, panel, Cm + (long)m * N + n, K);
  }
  if (n8 < N) {
    for (int m = 0; m < M; m++) ab_row(A + (long)m * K, B, Cm + (long)m * N, K, N, n8);
  }
}
