/*
 * C = A^T B for byel's WASM backend: A [K, M] and B [K, N] both row-major with the summed
 * dimension K outermost (as the Winograd filter gradient has them: tiles x channels), C [M, N].
 * One pass over A and B per block of 4 x 16 outputs held in 16 accumulators; single-threaded.
 * tfjs's BatchMatMul would take A^T only through its scalar path, and it repacks any right
 * operand it has not seen before at about 0.2 GB/s, more than the product costs here.
 * M and N multiples of 4. Also im2col (patches for the filter gradient of the RGB stem) and a
 * plain copy.
 */
#include "common.h"

#define SPLAT_LANE(v, i) wasm_i32x4_shuffle(v, v, i, i, i, i)

/* Rows of A and B per pass: the slices of both stay in cache while every block of C uses them. */
#define KC 256

EXPORT("gemm_atb")
void gemm_atb(const float *A, const float *B, float *Cm, int K, int M, int N) {
  const V zero = wasm_f32x4_splat(0.0f);
  for (long i = 0; i < (long)M * N; i += 4) ST(Cm + i, zero);
  for (int k0 = 0; k0 < K; k0 += KC) {
    const int kn = K - k0 < KC ? K - k0 : KC;
    for (int m = 0; m < M; m += 4) {
      int n = 0;
      for (; n + 16 <= N; n += 16) {
        float *c = Cm + (long)m * N + n;
        V c00 = LD(c), c01 = LD(c + 4), c02 = LD(c + 8), c03 = LD(c + 12);
        V c10 = LD(c + N), c11 = LD(c + N + 4), c12 = LD(c + N + 8), c13 = LD(c + N + 12);
        V c20 = LD(c + 2 * N), c21 = LD(c + 2 * N + 4), c22 = LD(c + 2 * N + 8);
        V c23 = LD(c + 2 * N + 12);
        V c30 = LD(c + 3 * N), c31 = LD(c + 3 * N + 4), c32 = LD(c + 3 * N + 8);
        V c33 = LD(c + 3 * N + 12);
        const float *a = A + (long)k0 * M + m, *b = B + (long)k0 * N + n;
        for (int k = 0; k < kn; k++, a += M, b += N) {
          const V av = LD(a);
          const V b0 = LD(b), b1 = LD(b + 4), b2 = LD(b + 8), b3 = LD(b + 12);
          const V a0 = SPLAT_LANE(av, 0), a1 = SPLAT_LANE(av, 1);
          const V a2 = SPLAT_LANE(av, 2), a3 = SPLAT_LANE(av, 3);
          c00 = ADD(c00, MUL(a0, b0)); c01 = ADD(c01, MUL(a0, b1));
          c02 = ADD(c02, MUL(a0, b2)); c03 = ADD(c03, MUL(a0, b3));
          c10 = ADD(c10, MUL(a1, b0)); c11 = ADD(c11, MUL(a1, b1));
          c12 = ADD(c12, MUL(a1, b2)); c13 = ADD(c13, MUL(a1, b3));
          c20 = ADD(c20, MUL(a2, b0)); c21 = ADD(c21, MUL(a2, b1));
          c22 = ADD(c22, MUL(a2, b2)); c23 = ADD(c23, MUL(a2, b3));
          c30 = ADD(c30, MUL(a3, b0)); c31 = ADD(c31, MUL(a3, b1));
          c32 = ADD(c32, MUL(a3, b2)); c33 = ADD(c33, MUL(a3, b3));
        }
        ST(c, c00); ST(c + 4, c01); ST(c + 8, c02); ST(c + 12, c03);
        c += N;
        ST(c, c10); ST(c + 4, c11); ST(c + 8, c12); ST(c + 12, c13);
        c += N;
        ST(c, c20); ST(c + 4, c21); ST(c + 8, c22); ST(c + 12, c23);
        c += N;
        ST(c, c30); ST(c + 4, c31); ST(c + 8, c32); ST(c + 12, c33);
      }
      for (; n < N; n += 4) {
        float *c = Cm + (long)m * N + n;
        V c0 = LD(c), c1 = LD(c + N), c2 = LD(c + 2 * N), c3 = LD(c + 3 * N);
        const float *a = A + (long)k0 * M + m, *b = B + (long)k0 * N + n;
        for (int k = 0; k < kn; k++, a += M, b += N) {
          const V av = LD(a), bv = LD(b);
          c0 = ADD(c0, MUL(SPLAT_LANE(av, 0), bv));
          c1 = ADD(c1, MUL(SPLAT_LANE(av, 1), bv));
          c2 = ADD(c2, MUL(SPLAT_LANE(av, 2), bv));
          c3 = ADD(c3, MUL(SPLAT_LANE(av, 3), bv));
        }
        ST(c, c0); ST(c + N, c1); ST(c + 2 * N, c2); ST(c + 3 * N, c3);
      }
    }
  }
}

/*
 * Patches of x [B,H,W,C] for a KH x KW convolution with strides (sh, sw) and top/left padding
 * (pt, pl): out [B*OH*OW, Mp], row p = (b, oh, ow) holding x[b, oh*sh - pt + i, ow*sw - pl + j,
 * c] at column (i*KW + j)*C + c (the filter's HWIO order), zeros outside the image and in the
 * columns from KH*KW*C up to Mp (a multiple of 4). For the filter gradient of convolutions with
 * few input channels (the RGB stem): dW = patches^T dy with gemm_atb.
 */
EXPORT("im2col")
void im2col(const float *x, int B, int H, int W, int C, int KH, int KW, int sh, int sw, int pt,
            int pl, int OH, int OW, int Mp, float *out) {
  float *o = out;
  for (int b = 0; b < B; b++) {
    for (int oh = 0; oh < OH; oh++) {
      for (int ow = 0; ow < OW; ow++, o += Mp) {
        int col = 0;
        for (int i = 0; i < KH; i++) {
          const int y = oh * sh - pt + i;
          for (int j = 0; j < KW; j++) {
            const int xx = ow * sw - pl + j;
            if (y >= 0 && y < H && xx >= 0 && xx < W) {
              const float *src = x + ((long)(b * H + y) * W + xx) * C;
              for (int c = 0; c < C; c++) o[col + c] = src[c];
            } else {
              for (int c = 0; c < C; c++) o[col + c] = 0.0f;
            }
            col += C;
          }
        }
        for (; col < Mp; col++) o[col] = 0.0f;
      }
    }
  }
}

/* dst[0..n) = src[0..n), n a multiple of 4 (no libc here: clang must not emit memcpy). */
EXPORT("copy_f32")
void copy_f32(float *dst, const float *src, int n) {
  for (int i = 0; i < n; i += 4) ST(dst + i, LD(src + i));
}
