/**
 * Max pooling with a correct gradient on every backend: the VGG's 2x2 stride-2 pool and the
 * ResNet stem's 3x3 stride-2 pool (padding 1, torchvision's).
 *
 * The forward pass is `tf.maxPool`, but for the 2x2 pool on WASM, byel's `ByelMaxPool2x2` on
 * every thread (the same values, NaN aside; [128,48,48,16] 1.4 ms against tfjs's 2.0). On WASM
 * the gradient is byel's own: tfjs-backend-wasm 4.22's MaxPoolGrad sends the gradient to the
 * wrong elements when channels > 2 (measured against the CPU backend), and routing it with
 * device ops needs a 6-D Tile that WASM runs ~60x slower. Each output's gradient goes to the
 * first maximum of its window (row-major), as tfjs's CPU kernel does, summed in the order of the
 * outputs where windows overlap. It runs as `ByelMaxPoolGrad` of byel's SIMD module
 * (`kernels/wasm_pool.ts`), on every thread; {@link maxPoolGradLoop}, the plain-JS loop that
 * preceded it (82 ms of a 584 ms quick supervised step, side by side), gives the same bits and
 * stays as the fallback and as the kernel's reference in the tests.
 *
 * @module
 */
import { tf } from "../deps.ts";
import {
  maxPool2x2Wasm,
  maxPoolGradWasm,
  type PoolWindow,
  wasmMaxPool2x2Available,
  wasmPoolAvailable,
} from "./kernels/wasm_pool.ts";
import type { Tensor, Tensor4D } from "../tensors.ts";

export type { PoolWindow } from "./kernels/wasm_pool.ts";

let _ownKernel = true;
let _ownForward = true;

/**
 * Test and benchmark hook: whether the WASM gradient runs as byel's kernel (default) or as
 * {@link maxPoolGradLoop} on the tensors' data; both give the same bits.
 */
export function setOwnMaxPoolGrad(on: boolean): void {
  _ownKernel = on;
}

/**
 * Test and benchmark hook: whether the 2x2 pool's forward on WASM runs as byel's kernel
 * (default) or as tfjs's `MaxPool`; the same values (NaN aside, see `ByelMaxPool2x2`).
 */
export function setOwnMaxPool(on: boolean): void {
  _ownForward = on;
}

/** The VGG stages' pool: 2x2, stride 2, no padding (an odd last row or column is dropped). */
export const POOL_2X2: PoolWindow = { size: 2, stride: 2, pad: 0, firstWins: true };
/** The ResNet stem's pool: 3x3, stride 2, padding 1. */
export const POOL_3X3S2: PoolWindow = { size: 3, stride: 2, pad: 1, firstWins: false };

/** Max pool with {@link maxPoolGrad} as its gradient on WASM. */
function _pool(x: Tensor4D, w: PoolWindow): Tensor4D {
  const pad = w.pad === 0 ? "valid" : w.pad;
  if (tf.getBackend() !== "wasm") return tf.maxPool(x, w.size, w.stride, pad);
  const f = tf.customGrad((...args: (Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, save] = args as [Tensor4D, tf.GradSaveFunc];
    save([xIn]);
    const own = _ownForward && w.size === 2 && w.stride === 2 && w.pad === 0 &&
      wasmMaxPool2x2Available(xIn);
    return {
      value: own ? maxPool2x2Wasm(xIn) : tf.maxPool(xIn, w.size, w.stride, pad),
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) =>
        maxPoolGrad(saved[0] as Tensor4D, dy as Tensor4D, w),
    };
  });
  return f(x) as Tensor4D;
}

/**
 * 2x2 max-pool, stride 2, no padding.
 *
 * @param x `[B, H, W, C]`
 * @returns `[B, floor(H / 2), floor(W / 2), C]`
 */
export function maxPool2x2(x: Tensor4D): Tensor4D {
  return _pool(x, POOL_2X2);
}

/**
 * 3x3 max-pool, stride 2, padding 1.
 *
 * @param x `[B, H, W, C]`
 * @returns `[B, floor((H - 1) / 2) + 1, floor((W - 1) / 2) + 1, C]`
 */
export function maxPool3x3s2(x: Tensor4D): Tensor4D {
  return _pool(x, POOL_3X3S2);
}

/**
 * The gradient of a max pool: `dy` routed to each window's first maximum.
 *
 * @param x `[B, H, W, C]` the pool's input @param dy `[B, OH, OW, C]` upstream gradient
 * @param w the pool's window
 * @returns `[B, H, W, C]`
 */
export function maxPoolGrad(x: Tensor4D, dy: Tensor4D, w: PoolWindow): Tensor4D {
  if (_ownKernel && wasmPoolAvailable(x, dy)) return maxPoolGradWasm(x, dy, w);
  return tf.tensor4d(maxPoolGradLoop(x.dataSync(), dy.dataSync(), x.shape, dy.shape, w), x.shape);
}

/**
 * The same gradient as a plain loop on the tensors' data (the fallback, and the kernel's
 * reference in the tests).
 *
 * @param xs `[B, H, W, C]` data @param g `[B, OH, OW, C]` data
 * @returns `[B, H, W, C]` data
 */
export function maxPoolGradLoop(
  xs: ArrayLike<number>,
  g: ArrayLike<number>,
  [b, h, w, c]: readonly number[],
  [, oh, ow]: readonly number[],
  { size, stride, pad, firstWins }: PoolWindow,
): Float32Array {
  const dx = new Float32Array(b * h * w * c);
  for (let n = 0; n < b; n++) {
    for (let i = 0; i < oh; i++) {
      const ya = Math.max(0, i * stride - pad), yb = Math.min(h, i * stride - pad + size);
      for (let j = 0; j < ow; j++) {
        const xa = Math.max(0, j * stride - pad), xb = Math.min(w, j * stride - pad + size);
        const o = ((n * oh + i) * ow + j) * c;
        for (let ch = 0; ch < c; ch++) {
          const k0 = ((n * h + ya) * w + xa) * c + ch;
          let best = firstWins ? xs[k0] : -Infinity, at = firstWins ? k0 : -1;
          for (let y = ya; y < yb; y++) {
            for (let xx = xa; xx < xb; xx++) {
              const k = ((n * h + y) * w + xx) * c + ch;
              if (xs[k] > best) best = xs[k], at = k;
            }
          }
          if (at >= 0) dx[at] += g[o + ch];
        }
      }
    }
  }
  return dx;
}
