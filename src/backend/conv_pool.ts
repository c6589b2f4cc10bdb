/**
 * A convolution with bias and relu followed by the 2x2 stride-2 max pool, for evaluation (the
 * VGG's last convolution of every stage, BatchNorm folded in): on WASM one `ByelConvPool`
 * kernel that pools the Winograd output tiles as they are made (`kernels/wasm_conv_pool.ts`),
 * the same bits as the two steps; elsewhere, and for shapes it does not take, `tf.fused.conv2d`
 * then {@link maxPool2x2}. No gradient: training runs the two steps.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { convPool2x2Wasm, wasmConvPoolAvailable } from "./kernels/wasm_conv_pool.ts";
import { maxPool2x2 } from "./max_pool.ts";
import type { Tensor1D, Tensor4D } from "../tensors.ts";

let _own = true;

/**
 * Test and benchmark hook: whether a convolution and its pool run as one WASM kernel (default)
 * or as the two steps; the same bits.
 */
export function setOwnConvPool(on: boolean): void {
  _own = on;
}

/**
 * `maxPool2x2(relu?(conv2d(x, filter, stride 1, pad 1) + bias))`.
 *
 * @param x `[B, H, W, C]` @param filter `[3, 3, C, K]` @param bias `[K]`
 * @returns `[B, floor(H / 2), floor(W / 2), K]`
 */
export function convBiasMaxPool2x2(
  x: Tensor4D,
  filter: Tensor4D,
  bias: Tensor1D,
  relu: boolean,
): Tensor4D {
  if (_own && wasmConvPoolAvailable(x, filter)) return convPool2x2Wasm(x, filter, bias, relu);
  return tf.tidy(() =>
    maxPool2x2(tf.fused.conv2d({
      x,
      filter,
      strides: 1,
      pad: 1,
      bias,
      activation: relu ? "relu" : "linear",
    }))
  );
}
