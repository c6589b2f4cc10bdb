/**
 * Optimizers over {@link Params} records with their state as named variables (so checkpoints
 * can save and restore it exactly): SGD with momentum, Adam, and LARS (in `lars.ts`). Weight
 * decay applies to weights only (`.w`), never to biases or BatchNorm.
 *
 * @module
 */
import { tf } from "../deps.ts";
import type { OptimizerName } from "../config.ts";
import { isDecayed, type Params } from "../model/params.ts";
import type { Tensor, Variable } from "../tensors.ts";
import { wasmOptimAvailable } from "../backend/kernels/wasm_optim.ts";

/** What every optimizer offers the training loop. */
export interface Optimizer {
  /** Which optimizer. */
  readonly kind: OptimizerName;
  /**
   * One update of every parameter that has a gradient.
   *
   * @param params the record to update @param grads logical name -> gradient (not disposed)
   * @param lr learning rate of this step
   */
  apply(params: Params, grads: Map<string, Tensor>, lr: number): void;
  /** Named state (slots), for checkpoints. */
  readonly state: Map<string, Variable>;
  /** Frees the state. */
  dispose(): void;
}

/** Common hyperparameters. */
export interface OptimizerOptions {
  /** L2 weight decay on `.w` parameters. @default 0 */
  weightDecay?: number;
  /** Momentum (SGD, LARS). @default 0 */
  momentum?: number;
  /** LARS trust coefficient. @default 0.001 */
  trust?: number;
}

/** Base with lazily created, zero-initialised slots. */
export abstract class SlotOptimizer implements Optimizer {
  abstract readonly kind: OptimizerName;
  readonly state: Map<string, Variable> = new Map();

  /**
   * An optimizer slot, created on first use.
   *
   * @returns the slot `key`, created as zeros shaped like `like`
   */
  protected slot(key: string, like: Tensor): Variable {
    let v = this.state.get(key);
    if (!v) {
      const zeros = tf.zerosLike(like);
      v = tf.variable(zeros, false);
      zeros.dispose(); // the variable keeps its own reference to the data
      this.state.set(key, v);
    }
    return v;
  }

  abstract apply(params: Params, grads: Map<string, Tensor>, lr: number): void;

  dispose(): void {
    for (const v of this.state.values()) v.dispose();
    this.state.clear();
  }
}

/** Stochastic gradient descent with optional momentum (PyTorch's form: buf = m buf + g). */
export class Sgd extends SlotOptimizer {
  /** Which optimizer. */
  readonly kind = "sgd" as const;
  #wd: number;
  #momentum: number;

  /** An optimizer with empty state. @param opts weightDecay, momentum */
  constructor(opts: OptimizerOptions = {}) {
    super();
    this.#wd = opts.weightDecay ?? 0;
    this.#momentum = opts.momentum ?? 0;
  }

  /** One update of every parameter that has a gradient. */
  apply(params: Params, grads: Map<string, Tensor>, lr: number): void {
    for (const [name, g] of grads) {
      const p = params.get(name);
      tf.tidy(() => {
        let d = this.#wd > 0 && isDecayed(name) ? tf.add(g, tf.mul(p, this.#wd)) : g;
        if (this.#momentum > 0) {
          const buf = this.slot(`${name}/momentum`, p);
          buf.assign(tf.add(tf.mul(buf, this.#momentum), d));
          d = buf;
        }
        p.assign(tf.sub(p, tf.mul(d, lr)));
      });
    }
  }
}

/** Adam (PyTorch's form, L2 weight decay added to the gradient). */
export class Adam extends SlotOptimizer {
  /** Which optimizer. */
  readonly kind = "adam" as const;
  #wd: number;
  /** First-moment decay. */
  readonly beta1 = 0.9;
  /** Second-moment decay. */
  readonly beta2 = 0.999;
  /** Added to denominators. */
  readonly eps = 1e-8;

  /** An optimizer with empty state. @param opts weightDecay */
  constructor(opts: OptimizerOptions = {}) {
    super();
    this.#wd = opts.weightDecay ?? 0;
  }

  /** One update of every parameter that has a gradient. */
  apply(params: Params, grads: Map<string, Tensor>, lr: number): void {
    let t = this.state.get("step");
    if (!t) {
      const zero = tf.scalar(0);
      t = tf.variable(zero, false);
      zero.dispose();
      this.state.set("step", t);
    }
    tf.tidy(() => t.assign(tf.add(t, 1)));
    // Bias corrections on the device (no read back: WebGPU under Deno cannot read synchronously):
    // c1 = 1 - beta1^t, c2 = 1 - beta2^t, as exp(t ln beta).
    const [stepLr, c2] = tf.tidy(() => [
      tf.div(lr, tf.sub(1, tf.exp(tf.mul(t, Math.log(this.beta1))))), // lr / c1
      tf.sub(1, tf.exp(tf.mul(t, Math.log(this.beta2)))),
    ]);
    for (const [name, g0] of grads) {
      const p = params.get(name);
      tf.tidy(() => {
        const wd = this.#wd > 0 && isDecayed(name) ? this.#wd : 0;
        const m = this.slot(`${name}/m`, p);
        const v = this.slot(`${name}/v`, p);
        if (wasmOptimAvailable(p)) {
          // One kernel, the same float32 operations as below (kernels/wasm_optim.ts).
          const [np, nm, nv] = tf.engine().runKernel(
            "ByelAdam",
            { p, g: g0, m, v, lr1: stepLr, c2 },
            { beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: wd },
          ) as unknown as Tensor[];
          m.assign(nm);
          v.assign(nv);
          p.assign(np);
          return;
        }
        const g = wd > 0 ? tf.add(g0, tf.mul(p, wd)) : g0;
        m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1)));
        v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
        const denom = tf.add(tf.sqrt(tf.div(v, c2)), this.eps);
        p.assign(tf.sub(p, tf.mul(tf.div(m, denom), stepLr)));
      });
    }
    tf.dispose([stepLr, c2]);
  }
}
