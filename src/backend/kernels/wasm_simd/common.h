/*
 * Shared definitions of byel's WebAssembly SIMD kernels (winograd.c, batch_norm.c). The module
 * they build into is instantiated on tfjs-backend-wasm's own memory and reads and writes tfjs
 * tensors in place, so every kernel keeps these rules (build.sh and tests/wasm_simd_test.ts
 * check them): no data segment, no static variables, no stack use (no arrays, no address-taken
 * locals: only scalars and v128 values, which stay in WebAssembly locals).
 */
#ifndef BYEL_COMMON_H
#define BYEL_COMMON_H
#include <wasm_simd128.h>

typedef v128_t V;
#define ADD wasm_f32x4_add
#define SUB wasm_f32x4_sub
#define MUL wasm_f32x4_mul
#define LD(p) wasm_v128_load(p)
#define ST(p, v) wasm_v128_store(p, v)
/* Lane i of v in every lane (a shuffle). */
#define SPLAT_LANE(v, i) wasm_i32x4_shuffle(v, v, i, i, i, i)
#define EXPORT(name) __attribute__((export_name(name)))

#endif
