import assert from "node:assert/strict";
import { tf } from "../../src/deps.ts";
import { resolveConfig } from "../../src/config.ts";
import { SyntheticFaces } from "../../src/data/synth/dataset.ts";
import { readTensors } from "../../src/model/io.ts";
import { train } from "../../src/train/loop.ts";
import { initClassifier } from "../../src/model/networks.ts";
import { ioErrorLine, UserError } from "../../src/errors.ts";
import { fileWriter } from "../../src/fsutil.ts";

await tf.setBackend("cpu");

// 32 training images, batch 8: 4 pretraining steps (2 micro-batches each), then 3 fine-tuning
// steps validated after each one.
const cfg = resolveConfig("smoke", {
  "pretrain.epochs": "1",
  "finetune.epochs": "0.75",
  "checkpointEvery": "2",
});
const trainData = new SyntheticFaces({ domain: "synthetic", seed: 1, size: 32, length: 32 });
const val = new SyntheticFaces({ domain: "real", seed: 2, size: 32, length: 12 });
const quiet = () => {};

async function weights(dir: string): Promise<Map<string, number[]>> {
  const { tensors } = await readTensors(dir);
  const out = new Map<string, number[]>();
  for (const [n, t] of tensors) {
    out.set(n, Array.from(t.dataSync()));
    t.dispose();
  }
  return out;
}

Deno.test("train() resumed twice ends with the same weights as an uninterrupted run, leaking no tensors", async () => {
  const root = await Deno.makeTempDir();
  const before = tf.memory().numTensors;
  const a = await train({
    config: cfg,
    train: trainData,
    val,
    outDir: `${root}/a`,
    backend: "cpu",
    log: quiet,
    handleSigint: false,
  });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(a.interrupted, false);
  assert.ok(a.metrics && a.metrics.n === 12);
  assert.equal(a.evals.length, 3);

  const opts = {
    config: cfg,
    train: trainData,
    val,
    outDir: `${root}/b`,
    backend: "cpu",
    log: quiet,
    handleSigint: false,
  };
  const b1 = await train({ ...opts, stopAfter: 3 }); // stops inside pretraining
  assert.equal(b1.interrupted, true);
  const b2 = await train({ ...opts, resume: true, stopAfter: 2 }); // crosses into fine-tuning
  assert.equal(b2.interrupted, true);
  const b3 = await train({ ...opts, resume: true });
  assert.equal(b3.interrupted, false);
  assert.equal(tf.memory().numTensors, before);

  const wa = await weights(`${root}/a/model`);
  const wb = await weights(`${root}/b/model`);
  assert.deepEqual([...wb.keys()], [...wa.keys()]);
  for (const [n, v] of wa) assert.deepEqual(wb.get(n), v, n);
  assert.deepEqual(b3.evals, a.evals);
  assert.deepEqual(
    b3.losses,
    a.losses.map((r, i) => ({ ...r, imagesPerSecond: b3.losses[i].imagesPerSecond })),
  );
  const report = await Deno.readTextFile(`${root}/b/report.html`);
  assert.match(report, /<svg/);
  await Deno.remove(root, { recursive: true });
});

Deno.test("train() stops on a non-finite loss and keeps the last good checkpoint", async () => {
  const root = await Deno.makeTempDir();
  // A data source that turns corrupt (NaN pixels) after its first batch: the loop reads one
  // batch per step (the whole step, micro-batches sliced from it), so step 2's images are NaN.
  let calls = 0;
  const corrupt = {
    ...trainData,
    name: "corrupt",
    length: trainData.length,
    size: trainData.size,
    label: (i: number) => trainData.label(i),
    async batch(indices: readonly number[]) {
      const b = await trainData.batch(indices);
      if (++calls > 1) b.images.fill(NaN);
      return b;
    },
  };
  // (No memory cache: it would refuse NaN pixels itself, before the loss sees them.)
  const bad = resolveConfig("smoke", {
    "pretrain.epochs": "1",
    "checkpointEvery": "1",
    "data.memoryMB": "0",
  });
  await assert.rejects(
    () =>
      train({
        config: bad,
        train: corrupt,
        val,
        outDir: root,
        backend: "cpu",
        log: quiet,
        handleSigint: false,
      }),
    /loss is NaN at pretrain step 2; stopped without applying this step/,
  );
  const { metadata, tensors } = await readTensors(`${root}/checkpoint`);
  for (const t of tensors.values()) {
    assert.ok(Array.from(t.dataSync()).every(Number.isFinite));
    t.dispose();
  }
  assert.equal(metadata.stage, "pretrain");
  assert.equal(metadata.step, 1);
  await Deno.remove(root, { recursive: true });
});

Deno.test("train() --balance sampler resumes to the same weights; --balance loss logs the class weights", async () => {
  const root = await Deno.makeTempDir();
  const before = tf.memory().numTensors;
  // 2 pretraining steps, then 1 fine-tuning step.
  const small = { "pretrain.epochs": "0.5", "finetune.epochs": "0.25" };
  const sampler = resolveConfig("smoke", { ...small, "data.balance": "sampler" });
  const opts = { train: trainData, val, backend: "cpu", log: quiet, handleSigint: false };
  const lines: string[] = [];
  await train({ ...opts, config: sampler, outDir: `${root}/a`, log: (l) => lines.push(l) });
  assert.match(
    lines[0],
    /^class distribution of .* \(32 images\):\n {2}anger +\d+ +[\d.]+% {2}#+\n/,
  );
  assert.doesNotMatch(lines[0], /weight/);
  const b1 = await train({ ...opts, config: sampler, outDir: `${root}/b`, stopAfter: 1 });
  assert.equal(b1.interrupted, true);
  await train({ ...opts, config: sampler, outDir: `${root}/b`, resume: true });
  const wa = await weights(`${root}/a/model`);
  const wb = await weights(`${root}/b/model`);
  for (const [n, v] of wa) assert.deepEqual(wb.get(n), v, n);

  const loss = resolveConfig("smoke", { ...small, "data.balance": "loss" });
  const logged: string[] = [];
  const r = await train({ ...opts, config: loss, outDir: `${root}/c`, log: (l) => logged.push(l) });
  assert.equal(r.interrupted, false);
  assert.match(logged[0], /\n {2}anger +\d+ +[\d.]+% +weight +[\d.]+ {2}#+\n/);
  assert.equal(tf.memory().numTensors, before);
  await Deno.remove(root, { recursive: true });
});

Deno.test("train() refuses an --out holding a run unless resume or overwrite; overwrite removes the old run", async () => {
  const root = await Deno.makeTempDir();
  const opts = {
    config: cfg,
    train: trainData,
    val,
    outDir: `${root}/r`,
    backend: "cpu",
    log: quiet,
    handleSigint: false,
  };
  await train({ ...opts, stopAfter: 1 });
  await assert.rejects(
    () => train(opts),
    (e: Error) =>
      e instanceof UserError &&
      /already holds a run \(checkpoint, report\.html\); continue it with --resume, replace it with --overwrite/
        .test(e.message),
  );
  const lines: string[] = [];
  const r = await train({ ...opts, overwrite: true, stopAfter: 1, log: (l) => lines.push(l) });
  assert.equal(r.interrupted, true);
  assert.ok(lines.some((l) => /--overwrite: removed the previous run/.test(l)));
  await assert.rejects(
    () => train({ ...opts, outDir: `${root}/none`, resume: true }),
    /--resume: no checkpoint/,
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test("a disk that fills up during a checkpoint: one line naming the checkpoint, the previous one intact, no temporary files", async () => {
  const root = await Deno.makeTempDir();
  // The error Deno throws when a disk is full (as `Deno.writeFile("/dev/full", …)` gives it:
  // a plain Error with code ENOSPC), for the temporary file being written.
  const enospc = (path: string) =>
    Object.assign(new Error(`No space left on device (os error 28): writefile '${path}'`), {
      code: "ENOSPC",
    });
  const opts = {
    config: cfg,
    train: trainData,
    val,
    outDir: `${root}/full`,
    backend: "cpu",
    log: quiet,
    handleSigint: false,
  };
  await train({ ...opts, stopAfter: 2 }); // a good checkpoint at pretrain step 2
  const good = await weights(`${root}/full/checkpoint`);
  const real = fileWriter.writeFile;
  fileWriter.writeFile = (path) => Promise.reject(enospc(path));
  let err: unknown;
  try {
    await train({ ...opts, resume: true, stopAfter: 2 });
  } catch (e) {
    err = e;
  } finally {
    fileWriter.writeFile = real;
  }
  const line = ioErrorLine(err);
  assert.ok(line, String(err));
  assert.match(line!, new RegExp(`^no space left on the disk holding ${root}/full/checkpoint; `));
  assert.doesNotMatch(line!, /\.tmp-|\n/);
  assert.deepEqual(await weights(`${root}/full/checkpoint`), good);
  const left: string[] = [];
  for await (const e of Deno.readDir(`${root}/full`)) left.push(e.name);
  assert.ok(left.every((n) => !n.includes(".tmp-")), left.join(" "));
  assert.ok(!left.includes(".lock"), "the lock is released");
  await Deno.remove(root, { recursive: true });
});

Deno.test("train() --finetune.emaDecay validates and saves the weights' moving average, resumes to it, and leaves the run unchanged", async () => {
  const root = await Deno.makeTempDir();
  const before = tf.memory().numTensors;
  // The baseline: 3 supervised steps, validated once, at the end.
  const base = {
    method: "baseline",
    "pretrain.epochs": "0.5",
    "finetune.epochs": "0.25",
    "finetune.evalEvery": "0",
  };
  const plain = resolveConfig("smoke", base);
  const averaged = resolveConfig("smoke", { ...base, "finetune.emaDecay": "0.5" });
  const opts = { train: trainData, val, backend: "cpu", log: quiet, handleSigint: false };
  await train({ ...opts, config: plain, outDir: `${root}/plain` });
  const lines: string[] = [];
  await train({ ...opts, config: averaged, outDir: `${root}/avg`, log: (l) => lines.push(l) });
  assert.ok(lines.some((l) => /weights' moving average \(decay 0\.5\)/.test(l)));

  // The same run, step by step: the raw weights after each step.
  const raw: Map<string, number[]>[] = [];
  const stepwise = { ...opts, config: averaged, outDir: `${root}/steps` };
  await train({ ...stepwise, stopAfter: 1 });
  raw.push(await weights(`${root}/steps/checkpoint`));
  await train({ ...stepwise, resume: true, stopAfter: 1 });
  raw.push(await weights(`${root}/steps/checkpoint`));
  await train({ ...stepwise, resume: true });
  raw.push(await weights(`${root}/steps/checkpoint`));
  assert.equal(tf.memory().numTensors, before);

  const a = await weights(`${root}/avg/checkpoint`);
  const p = await weights(`${root}/plain/checkpoint`);
  const names = [...p.keys()].filter((n) => n.startsWith("params/")).map((n) => n.slice(7));
  assert.ok(names.some((n) => n.endsWith(".mean")) && names.some((n) => n.endsWith(".w")));
  // Averaging leaves the steps alone: the last weights are the plain run's.
  for (const n of names) assert.deepEqual(a.get(`params/${n}`), p.get(`params/${n}`), n);
  // Resumed twice, the same average as the uninterrupted run.
  for (const n of names) assert.deepEqual(raw[2].get(`average/${n}`), a.get(`average/${n}`), n);

  // By hand: avg = w0, then avg = d·avg + (1 - d)·w_t with d = min(0.5, t / (t + 1)).
  const init = initClassifier(averaged);
  const model = await weights(`${root}/avg/model`);
  const last = await weights(`${root}/plain/model`);
  let differs = 0;
  for (const n of names) {
    let avg = Array.from(init.get(n).dataSync());
    for (let t = 0; t < 3; t++) {
      const d = Math.min(0.5, t / (t + 1));
      const w = raw[t].get(`params/${n}`)!;
      avg = avg.map((x, i) => d * x + (1 - d) * w[i]);
    }
    const got = model.get(n)!;
    assert.equal(got.length, avg.length, n);
    for (let i = 0; i < avg.length; i++) {
      assert.ok(Math.abs(got[i] - avg[i]) <= 1e-5 * (1 + Math.abs(avg[i])), `${n}[${i}]`);
    }
    if (got.some((x, i) => Math.abs(x - last.get(n)![i]) > 1e-6)) differs++;
  }
  init.dispose();
  assert.ok(differs > names.length / 2, "the saved model is the average, not the last weights");
  await Deno.remove(root, { recursive: true });
});
