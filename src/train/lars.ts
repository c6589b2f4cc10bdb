/**
 * LARS (layer-wise adaptive rate scaling) over SGD, as BYEL's training code uses it (torchlars:
 * trust coefficient 0.001, eps 1e-8). For each weight tensor w with gradient g:
 *
 *     d = g + wd * w
 *     ratio = trust * ||w|| / (||d|| + eps)     (1 when ||w|| or ||d|| is 0)
 *     w <- w - lr * (momentum buffer of ratio * d)
 *
 * Biases and BatchNorm parameters get neither weight decay nor the adaptation (plain SGD).
 *
 * @module
 */
import { tf } from "../deps.ts";
import { isDecayed, type Params } from "../model/params.ts";
import { type OptimizerOptions, SlotOptimizer } from "./optimizers.ts";
import type { Scalar, Tensor } from "../tensors.ts";

/** LARS over SGD. */
export class Lars extends SlotOptimizer {
  /** Which optimizer. */
  readonly kind = "lars" as const;
  /** L2 weight decay on weights. */
  readonly weightDecay: number;
  /** Momentum. */
  readonly momentum: number;
  /** The trust coefficient. */
  readonly trust: number;
  /** Added to denominators. */
  readonly eps = 1e-8;

  /**
   * An optimizer with empty state.
   *
   * @param opts weightDecay @default 0, momentum @default 0, trust @default 0.001
   * @example
   * ```ts
   * const opt = new Lars({ weightDecay: 1.5e-6, trust: 0.001 });
   * opt.apply(params, grads, 0.2);
   * ```
   */
  constructor(opts: OptimizerOptions = {}) {
    super();
    this.weightDecay = opts.weightDecay ?? 0;
    this.momentum = opts.momentum ?? 0;
    this.trust = opts.trust ?? 0.001;
  }

  /** One update of every parameter that has a gradient. */
  apply(params: Params, grads: Map<string, Tensor>, lr: number): void {
    for (const [name, g] of grads) {
      const p = params.get(name);
      tf.tidy(() => {
        let d: Tensor = g;
        if (isDecayed(name)) {
          if (this.weightDecay > 0) d = tf.add(d, tf.mul(p, this.weightDecay));
          // sqrt(sum(x^2)) rather than tf.norm: the same value, but tf.norm goes through Pow,
          // which on WASM cost 200-340 ms of a ~4.7 s ResNet-18 BYEL step (bench/profile_step.ts).
          const pNorm = _l2(p);
          const dNorm = _l2(d);
          const ratio = tf.where(
            tf.logicalAnd(tf.greater(pNorm, 0), tf.greater(dNorm, 0)),
            tf.div(tf.mul(pNorm, this.trust), tf.add(dNorm, this.eps)),
            tf.onesLike(pNorm),
          );
          d = tf.mul(d, ratio);
        }
        if (this.momentum > 0) {
          const buf = this.slot(`${name}/momentum`, p);
          buf.assign(tf.add(tf.mul(buf, this.momentum), d));
          d = buf;
        }
        p.assign(tf.sub(p, tf.mul(d, lr)));
      });
    }
  }
}

/** @returns the L2 norm of all elements of `x`, a scalar */
function _l2(x: Tensor): Scalar {
  return tf.sqrt(tf.sum(tf.square(x)));
}
