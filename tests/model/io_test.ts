import assert from "node:assert/strict";
import { tf } from "../../src/deps.ts";
import { SMOKE } from "../../src/config.ts";
import { classifierForward, initClassifier } from "../../src/model/networks.ts";
import { saveModel } from "../../src/model/io.ts";
import { load } from "../../src/model/classifier.ts";

await tf.setBackend("cpu");

Deno.test("saveModel() then load() gives identical predictions (float32) and close ones (float16)", async () => {
  const cfg = SMOKE;
  const c = initClassifier(cfg);
  const x = tf.randomUniform([3, 32, 32, 3]) as tf.Tensor4D;
  const want = tf.tidy(() =>
    tf.softmax(
      classifierForward(
        c,
        tf.div(tf.sub(x, [0.485, 0.456, 0.406]), [0.229, 0.224, 0.225]) as tf.Tensor4D,
        {
          arch: cfg.arch,
          ctx: { train: false },
        },
      ),
    )
  );
  const dir = await Deno.makeTempDir();
  const meta = { config: cfg, method: "byel", backend: "cpu", seed: 0, version: "test" };
  await saveModel(`${dir}/m32`, c, { arch: cfg.arch, metadata: meta });
  await saveModel(`${dir}/m16`, c, { arch: cfg.arch, metadata: meta, float16: true });
  const m32 = await load(`${dir}/m32`);
  const got = m32.probabilities(x, { tta: "none" });
  assert.deepEqual(Array.from(got.dataSync()), Array.from(want.dataSync()));
  assert.equal(m32.metadata.method, "byel");
  const m16 = await load(`${dir}/m16`);
  const got16 = m16.probabilities(x, { tta: "none" });
  assert.ok(tf.max(tf.abs(tf.sub(got16, want))).dataSync()[0] < 1e-2);
  const s32 = (await Deno.stat(`${dir}/m32/weights.bin`)).size;
  const s16 = (await Deno.stat(`${dir}/m16/weights.bin`)).size;
  assert.equal(s16 * 2, s32);
  tf.dispose([x, want, got, got16]);
  m32.dispose();
  m16.dispose();
  c.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("load() reads a model from an http URL", async () => {
  const cfg = SMOKE;
  const c = initClassifier(cfg);
  const dir = await Deno.makeTempDir();
  await saveModel(`${dir}/m`, c, {
    arch: cfg.arch,
    metadata: { config: cfg, method: "byel", backend: "cpu", seed: 0, version: "test" },
  });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    try {
      return new Response(await Deno.readFile(`${dir}/m${path}`));
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  const url = `http://127.0.0.1:${server.addr.port}/`;
  const x = tf.randomUniform([2, 32, 32, 3]) as tf.Tensor4D;
  const local = await load(`${dir}/m`);
  const remote = await load(url);
  const a = local.probabilities(x), b = remote.probabilities(x);
  assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
  tf.dispose([x, a, b]);
  local.dispose();
  remote.dispose();
  c.dispose();
  await server.shutdown();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("load() reads the shipped model (its config's arch); models saved before arch.family/inputNorm load as ResNet + ImageNet", async () => {
  const m = await load("models/byel-quick");
  assert.deepEqual(m.arch, (m.metadata.config as typeof SMOKE).arch);
  const x = tf.randomUniform([2, m.arch.inputSize, m.arch.inputSize, 3]) as tf.Tensor4D;
  const p = m.probabilities(x);
  const sums = tf.sum(p, 1).dataSync();
  for (const v of sums) assert.ok(Math.abs(v - 1) < 1e-5, `row sums to ${v}`);
  tf.dispose([x, p]);
  m.dispose();
  // A model written before those fields existed: a ResNet with neither in its topology.
  const c = initClassifier(SMOKE);
  const legacy = structuredClone(SMOKE.arch) as Partial<typeof SMOKE.arch>;
  delete legacy.family;
  delete legacy.inputNorm;
  const dir = await Deno.makeTempDir();
  const meta = { config: SMOKE, method: "byel", backend: "cpu", seed: 0, version: "test" };
  await saveModel(dir, c, { arch: legacy as typeof SMOKE.arch, metadata: meta });
  const old = await load(dir);
  assert.equal(old.arch.family, "resnet");
  assert.equal(old.arch.inputNorm, "imagenet");
  old.dispose();
  c.dispose();
  await Deno.remove(dir, { recursive: true });
});
