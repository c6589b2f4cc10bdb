/**
 * Classification metrics of the LSD challenge: the confusion matrix, per-class precision,
 * recall, F1 and support, accuracy, and macro F1.
 *
 * Convention for classes without examples (the same as scikit-learn's
 * `f1_score(y_true, y_pred, average="macro")`, the challenge's metric): a class's precision is
 * 0 when it is never predicted, its recall 0 when it has no support, its F1 0 when precision +
 * recall is 0. The macro average runs over the classes that occur in the labels OR the
 * predictions: a class absent from both is left out (it says nothing about the model), while a
 * class with no support that the model nevertheless predicts counts with F1 = 0.
 *
 * @module
 */
import { EMOTIONS, NUM_CLASSES } from "../emotions.ts";

/** Scores of one class. */
export interface ClassScores {
  /** Of the predictions of this class, the share that were right. */
  precision: number;
  /** Of this class's images, the share found. */
  recall: number;
  /** Harmonic mean of precision and recall. */
  f1: number;
  /** Number of examples whose true class this is. */
  support: number;
}

/** Everything `eval` reports. */
export interface Metrics {
  /** Unweighted mean of per-class F1 (see the module's convention). */
  macroF1: number;
  /** Fraction of correct predictions. */
  accuracy: number;
  /** Class name -> scores, in {@link EMOTIONS} order. */
  perClass: Record<string, ClassScores>;
  /** `confusion[true][predicted]` counts, 6 x 6. */
  confusion: number[][];
  /** Number of examples scored (labels of -1 are skipped). */
  n: number;
}

/**
 * Counts `confusion[t][p]`.
 *
 * @param labels true classes (-1 entries skipped) @param predictions predicted classes
 * @param k number of classes @default 6
 * @returns k x k counts
 */
export function confusionMatrix(
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
  k: number = NUM_CLASSES,
): number[][] {
  if (labels.length !== predictions.length) {
    throw new Error(
      `labels (${labels.length}) and predictions (${predictions.length}) differ in length`,
    );
  }
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] < 0) continue;
    m[labels[i]][predictions[i]]++;
  }
  return m;
}

/**
 * All metrics from a confusion matrix.
 *
 * @param confusion `confusion[true][predicted]`
 * @param names class names @default EMOTIONS
 * @returns macro F1, accuracy, per-class scores, the matrix and n
 * @example
 * ```ts
 * metricsFromConfusion([[1, 1], [0, 2]], ["a", "b"]).macroF1; // (2/3 + 4/5) / 2
 * ```
 */
export function metricsFromConfusion(
  confusion: number[][],
  names: readonly string[] = EMOTIONS,
): Metrics {
  const k = confusion.length;
  let n = 0, correct = 0;
  const perClass: Record<string, ClassScores> = {};
  const f1s: number[] = [];
  for (let c = 0; c < k; c++) {
    const tp = confusion[c][c];
    const support = confusion[c].reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[c], 0);
    n += support;
    correct += tp;
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass[names[c]] = { precision, recall, f1, support };
    if (support > 0 || predicted > 0) f1s.push(f1);
  }
  return {
    macroF1: f1s.length ? f1s.reduce((a, b) => a + b, 0) / f1s.length : 0,
    accuracy: n > 0 ? correct / n : 0,
    perClass,
    confusion,
    n,
  };
}

/**
 * Metrics of predictions against labels.
 *
 * @param labels true classes (-1 skipped) @param predictions predicted classes
 * @returns see {@link Metrics}
 */
export function computeMetrics(labels: ArrayLike<number>, predictions: ArrayLike<number>): Metrics {
  return metricsFromConfusion(confusionMatrix(labels, predictions));
}

/**
 * A fixed-width text table of the metrics, for the terminal.
 *
 * @param m metrics
 * @returns lines joined by newlines
 */
export function formatMetrics(m: Metrics): string {
  const lines = [
    `macro F1 ${m.macroF1.toFixed(4)}   accuracy ${m.accuracy.toFixed(4)}   n ${m.n}`,
    "",
  ];
  lines.push(`${"class".padEnd(10)} precision  recall     f1  support`);
  for (const [name, s] of Object.entries(m.perClass)) {
    lines.push(
      `${name.padEnd(10)} ${s.precision.toFixed(3).padStart(9)} ${
        s.recall.toFixed(3).padStart(7)
      } ${s.f1.toFixed(3).padStart(6)} ${String(s.support).padStart(8)}`,
    );
  }
  lines.push(
    "",
    `confusion (rows true, columns predicted: ${
      Object.keys(m.perClass).map((s) => s.slice(0, 3)).join(" ")
    })`,
  );
  for (const [i, row] of m.confusion.entries()) {
    lines.push(
      `${Object.keys(m.perClass)[i].slice(0, 3).padEnd(4)}${
        row.map((v) => String(v).padStart(5)).join("")
      }`,
    );
  }
  return lines.join("\n");
}
