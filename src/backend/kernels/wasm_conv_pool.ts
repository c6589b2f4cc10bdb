/**
 * `ByelConvPool` on WASM: a stride-1 3x3 convolution with bias and relu (or none), then the 2x2
 * stride-2 max pool, in one pass where the convolution runs by the fused Winograd kernels
 * (`winograd.ts`): each output tile is pooled as it is made, so the full-size output is never
 * written and read back (for the quick preset's first stage, `[128, 48, 48, 16]`: 19 MB). The
 * VGG's last convolution of every stage in evaluation (`src/backend/conv_pool.ts`). Each window
 * is the pmax chain of `ByelMaxPool2x2` over the same convolution values: the same bits as the
 * convolution followed by that pool. Where no fused route takes the convolution it runs as
 * exactly that: `FusedConv2D` (byel's routes in front of tfjs's), then `ByelMaxPool2x2`.
 *
 * `{x [B, H, W, C], filter [3, 3, C, K], bias [K]}`, `{pad, activation}` (`pad` a number:
 * the same on every side; `activation` `"relu"` or `"linear"`) → `[B, OH / 2, OW / 2, K]`.
 *
 * @module
 */
import { tf } from "../../deps.ts";
import { type KernelArgs, ownWasmKernelReady, registerOwnWasmKernels } from "./interpose.ts";
import { free, type Info } from "./wasm_simd.ts";
import { winogradConvPool } from "./winograd.ts";
import type { Tensor1D, Tensor4D } from "../../tensors.ts";

function _convPool(args: KernelArgs): Info {
  const pooled = winogradConvPool(args);
  if (pooled) return pooled;
  const { x, filter, bias } = args.inputs as Record<string, Info>;
  const { pad, activation } = args.attrs as { pad: number; activation: string };
  const kernel = (name: string) => tf.getKernel(name, "wasm")!.kernelFunc;
  const y = kernel("FusedConv2D")({
    inputs: { x, filter, bias },
    attrs: { strides: 1, pad, dataFormat: "NHWC", dilations: 1, activation },
    backend: args.backend,
  }) as Info;
  const out = kernel("ByelMaxPool2x2")({ inputs: { x: y }, attrs: {}, backend: args.backend });
  free(args.backend, [y]);
  return out as Info;
}

/** Registers `ByelConvPool` on the WASM backend. Idempotent. */
export function registerWasmConvPool(): void {
  registerOwnWasmKernels([["ByelConvPool", _convPool]]);
}

/**
 * @returns whether `ByelConvPool` can run a convolution of `x` by `filter` (float32, 3x3, output
 * channels a multiple of 4 as `ByelMaxPool2x2` needs, active WASM with byel's kernels)
 */
export function wasmConvPoolAvailable(x: Tensor4D, filter: Tensor4D): boolean {
  const [fh, fw, , k] = filter.shape;
  return x.dtype === "float32" && filter.dtype === "float32" && fh === 3 && fw === 3 &&
    k % 4 === 0 && ownWasmKernelReady("ByelConvPool") && ownWasmKernelReady("ByelMaxPool2x2");
}

/**
 * Runs `ByelConvPool` (see {@link wasmConvPoolAvailable}): padding 1, stride 1.
 *
 * @param x `[B, H, W, C]` @param filter `[3, 3, C, K]` @param bias `[K]`
 * @returns `[B, floor(H / 2), floor(W / 2), K]`
 */
export function convPool2x2Wasm(
  x: Tensor4D,
  filter: Tensor4D,
  bias: Tensor1D,
  relu: boolean,
): Tensor4D {
  return tf.engine().runKernel(
    "ByelConvPool",
    { x, filter, bias },
    { pad: 1, activation: relu ? "relu" : "linear" },
  ) as Tensor4D;
}
