/** Shared fixtures of the optimizer tests: a tiny parameter record and a tolerance check. */
import assert from "node:assert/strict";
import { tf } from "../../src/deps.ts";
import { Params } from "../../src/model/params.ts";

/** Asserts |a - b| < eps. */
export const close = (a: number, b: number, eps = 1e-6) =>
  assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

/** @returns a weight (||w|| = 5), a bias and a BatchNorm scale, as the optimizers see them */
export function record(): Params {
  const p = new Params();
  p.add("layer.w", tf.tensor1d([3, 4])); // ||w|| = 5
  p.add("layer.b", tf.tensor1d([1]));
  p.add("bn.gamma", tf.tensor1d([2]));
  return p;
}
