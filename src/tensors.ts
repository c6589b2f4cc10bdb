/**
 * The tensor types of byel's public signatures: tfjs-core's own classes (byel runs on
 * `npm:@tensorflow/tfjs-core@4.22.0`; import it at that version to make tensors for byel, it is
 * the same instance), named here so that the API documents them.
 *
 * @module
 */
import type { tf } from "./deps.ts";

/** A tensor of any rank (tfjs-core's `Tensor`). */
export type Tensor = tf.Tensor;
/** A scalar tensor (tfjs-core's `Scalar`). */
export type Scalar = tf.Scalar;
/** A 1-D tensor, e.g. `[B]` labels (tfjs-core's `Tensor1D`). */
export type Tensor1D = tf.Tensor1D;
/** A 2-D tensor, e.g. `[B, D]` features or logits (tfjs-core's `Tensor2D`). */
export type Tensor2D = tf.Tensor2D;
/** A 3-D tensor (tfjs-core's `Tensor3D`). */
export type Tensor3D = tf.Tensor3D;
/** A 4-D tensor, e.g. `[B, H, W, 3]` images (tfjs-core's `Tensor4D`). */
export type Tensor4D = tf.Tensor4D;
/** A trainable or state variable (tfjs-core's `Variable`). */
export type Variable = tf.Variable;
/** Tensors by name (tfjs-core's `NamedTensorMap`). */
export type NamedTensorMap = tf.NamedTensorMap;
