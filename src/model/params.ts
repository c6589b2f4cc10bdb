/**
 * Explicit parameter records: a model is a map from a logical name (`online.encoder.stem.conv.w`)
 * to a Variable, and every layer function reads its weights from that map by name. Naming
 * conventions carry the kinds: `.w` weights (decayed, LARS-adapted), `.b` biases, `.gamma` /
 * `.beta` BatchNorm affine (neither decayed nor adapted), `.mean` / `.var` BatchNorm running
 * statistics (not trainable).
 *
 * @module
 */
import { tf } from "../deps.ts";
import type { Tensor, Variable } from "../tensors.ts";

/** A named set of variables. */
export class Params {
  /** Logical name -> variable, in creation order. */
  readonly vars: Map<string, Variable> = new Map();

  /**
   * Adds a variable (taking ownership of `init`).
   *
   * @param name logical name, unique in this record
   * @param init initial value (disposed)
   * @returns the new variable
   */
  add(name: string, init: Tensor): Variable {
    if (this.vars.has(name)) throw new Error(`parameter ${name} defined twice`);
    const v = tf.variable(init, isTrainable(name));
    init.dispose();
    this.vars.set(name, v);
    return v;
  }

  /**
   * The variable called `name`.
   *
   * @param name logical name
   * @returns the variable (throws when there is none)
   */
  get(name: string): Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`no parameter ${name}`);
    return v;
  }

  /**
   * The names of the variables under a prefix, in creation order.
   *
   * @param prefix e.g. `online.`
   * @returns the names
   */
  names(prefix = ""): string[] {
    return [...this.vars.keys()].filter((n) => n.startsWith(prefix));
  }

  /**
   * The learned (trainable) variables under a prefix.
   *
   * @param prefix e.g. `online.`
   * @returns their names
   */
  trainable(prefix = ""): string[] {
    return this.names(prefix).filter(isTrainable);
  }

  /**
   * How many scalars the variables under a prefix hold.
   *
   * @param prefix name prefix
   * @returns the count
   */
  count(prefix = ""): number {
    return this.names(prefix).reduce((s, n) => s + this.get(n).size, 0);
  }

  /** Derived tensors by key, with the data of the variables they were computed from. */
  #derived = new Map<string, { from: object[]; value: Tensor[] }>();

  /**
   * Tensors computed from some of this record's variables (for example BatchNorm folded into a
   * convolution for inference), kept until one of those variables is assigned a new value.
   *
   * @param key what is derived, e.g. `fold:encoder.layer1.0.conv1`
   * @param from names of the variables it is computed from
   * @param make computes it (its results are kept; the caller must not dispose them)
   * @returns the cached or new tensors
   */
  derived(key: string, from: string[], make: () => Tensor[]): Tensor[] {
    const ids = from.map((n) => this.get(n).dataId);
    const hit = this.#derived.get(key);
    if (hit && hit.from.every((id, i) => id === ids[i])) return hit.value;
    if (hit) tf.dispose(hit.value);
    const value = tf.tidy(make).map((t) => tf.keep(t));
    this.#derived.set(key, { from: ids, value });
    return value;
  }

  /** Disposes every variable and derived tensor. */
  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
    for (const d of this.#derived.values()) tf.dispose(d.value);
    this.#derived.clear();
  }
}

/** @returns whether a parameter is learned (not a BatchNorm running statistic) @param name logical name */
export function isTrainable(name: string): boolean {
  return !(name.endsWith(".mean") || name.endsWith(".var"));
}

/**
 * @returns whether weight decay and LARS adaptation apply (weights, not biases or BatchNorm)
 * @param name logical name
 */
export function isDecayed(name: string): boolean {
  return name.endsWith(".w");
}
