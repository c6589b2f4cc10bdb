import assert from "node:assert/strict";
import { encodePng } from "../../src/data/synth/sheet.ts";
import { FACE_BATCH, FaceDecoder, FaceStage, parseFaceMode } from "../../src/face/stage.ts";
import { frontalFace, place, similarity } from "../_helpers/faces.ts";
import { UserError } from "../../src/errors.ts";

type Img = ReturnType<typeof frontalFace>["img"];

/** A 320 x 160 photo: face `a` upright in the left half, `b` turned and scaled in the right. */
function sideBySide(a: Img, b: Img, right: { deg: number; k: number }) {
  const left = place(a, similarity(a, { deg: 0, k: 1, cx: 80, cy: 80 }), 160, 160);
  const rightHalf = place(b, similarity(b, { ...right, cx: 80, cy: 80 }), 160, 160);
  const data = new Float32Array(320 * 160 * 3);
  for (let y = 0; y < 160; y++) {
    data.set(left.data.subarray(y * 480, (y + 1) * 480), y * 960);
    data.set(rightHalf.data.subarray(y * 480, (y + 1) * 480), y * 960 + 480);
  }
  return { width: 320, height: 160, data };
}

/** `[size, size, 3]` hash noise in [0, 1] (no face), from the multiplier pair `m`, `n`. */
function noise(size: number, m: number, n: number): Float32Array {
  return new Float32Array(size * size * 3).map((_, i) => (Math.sin(i * m) * n) % 1 * 0.5 + 0.5);
}

Deno.test("FaceStage (in its worker) finds both faces of a two-face photo, boxes around each", async () => {
  const stage = await FaceStage.load();
  try {
    // two faces side by side in one 320 x 160 photo
    const photo = sideBySide(frontalFace(4).img, frontalFace(5).img, { deg: 5, k: 1.1 });
    const faces = await stage.faces(photo, { size: 48, maxFaces: 8 });
    assert.equal(faces.length, 2);
    const centres = faces.map((f) => f.box[0] + f.box[2] / 2).sort((p, q) => p - q);
    assert.ok(Math.abs(centres[0] - 80) < 20 && Math.abs(centres[1] - 240) < 20, `${centres}`);
    for (const f of faces) {
      assert.equal(f.source, "detector");
      assert.ok(f.score > 0.5 && f.box[2] > 40 && f.box[2] < 160, JSON.stringify(f.box));
      assert.equal(f.crop.length, 48 * 48 * 3);
    }
  } finally {
    stage.dispose();
  }
});

Deno.test("FaceDecoder reads an image with no face whole, and counts it", async () => {
  const stage = await FaceStage.load();
  const dir = await Deno.makeTempDir({ prefix: "byel_face_" });
  try {
    await Deno.writeFile(`${dir}/noise.png`, encodePng(noise(64, 12.9898, 43758.5453), 64));
    await Deno.writeFile(`${dir}/face.png`, encodePng(frontalFace(6, 96).img.data, 96));
    const dec = new FaceDecoder(stage);
    const r = await dec.decodeFiles(
      [`${dir}/noise.png`, `${dir}/face.png`, `${dir}/missing.png`],
      48,
    );
    assert.deepEqual(dec.counts, { images: 2, noFace: 1 });
    assert.equal(dec.noFaceFiles[0], `${dir}/noise.png`);
    assert.match(dec.summary(), /faces: 1 of 2 images \(1 with no face found/);
    assert.deepEqual(r.failures.map((f) => f?.reason ?? null), [null, null, "unreadable"]);
    assert.equal(r.pixels.length, 3 * 48 * 48 * 3);
    assert.ok(r.pixels.subarray(0, 48 * 48 * 3).some((v) => v > 0)); // the fallback kept the image
  } finally {
    stage.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("facesBatch() gives each photo of a mixed batch what faces() gives it alone", async () => {
  const stage = await FaceStage.load();
  try {
    const a = frontalFace(7).img, b = frontalFace(8, 96).img;
    const one = place(a, similarity(a, { deg: -8, k: 1, cx: 100, cy: 90 }), 200, 180);
    const two = sideBySide(a, b, { deg: 6, k: 1.2 });
    // a uint8 tight crop (found only once padded) among float photos
    const tight = {
      width: 96,
      height: 96,
      data: Uint8Array.from(b.data, (v) => Math.round(v * 255)),
    };
    const blank = { width: 64, height: 64, data: noise(64, 78.233, 4375.85) };
    const photos = [one, two, blank, tight];
    const opts = { size: 32, maxFaces: 4 };
    const batched = await stage.facesBatch(photos, opts);
    assert.deepEqual(batched.map((fs) => fs.length), [1, 2, 1, 1]);
    assert.deepEqual(batched.map((fs) => fs[0].source), [
      "detector",
      "detector",
      "fallback",
      "detector",
    ]);
    for (const [i, p] of photos.entries()) {
      const alone = await stage.faces(p, opts);
      assert.equal(alone.length, batched[i].length);
      alone.forEach((f, k) => {
        const g = batched[i][k];
        assert.equal(g.pad, f.pad);
        for (let t = 0; t < 4; t++) {
          assert.ok(Math.abs(g.box[t] - f.box[t]) < 0.05, `${i}: ${g.box} vs ${f.box}`);
        }
        let d = 0;
        for (let c = 0; c < f.crop.length; c++) d = Math.max(d, Math.abs(g.crop[c] - f.crop[c]));
        assert.ok(d < 2e-3, `photo ${i} face ${k}: crops differ by ${d}`);
      });
    }
    assert.deepEqual(await stage.facesBatch([], opts), []);
  } finally {
    stage.dispose();
  }
});

Deno.test("FaceDecoder keeps every file in its place across batches, bad files between", async () => {
  const stage = await FaceStage.load();
  const dir = await Deno.makeTempDir({ prefix: "byel_face_" });
  try {
    const paths: string[] = [];
    for (let k = 0; k < FACE_BATCH + 3; k++) {
      const path = `${dir}/f${k}.png`;
      if (k % 7 === 3) await Deno.writeFile(path, new TextEncoder().encode("not a png"));
      else await Deno.writeFile(path, encodePng(frontalFace(20 + k, 64).img.data, 64));
      paths.push(path);
    }
    const dec = new FaceDecoder(stage);
    const all = await dec.decodeFiles(paths, 24);
    const per = 24 * 24 * 3;
    for (const [k, path] of paths.entries()) {
      const alone = await new FaceDecoder(stage).decodeFiles([path], 24);
      assert.deepEqual(all.failures[k]?.reason ?? null, alone.failures[0]?.reason ?? null, path);
      const got = all.pixels.subarray(k * per, (k + 1) * per);
      let d = 0;
      for (let c = 0; c < per; c++) d = Math.max(d, Math.abs(got[c] - alone.pixels[c]));
      assert.ok(d <= 1, `${path}: differs by ${d} from decoding it alone`);
    }
    assert.equal(all.failures.filter((f) => f).length, 3);
    assert.equal(dec.counts.images, FACE_BATCH);
  } finally {
    stage.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseFaceMode() takes detect and none, defaulting to detect", () => {
  assert.equal(parseFaceMode(undefined), "detect");
  assert.equal(parseFaceMode("none"), "none");
  assert.throws(
    () => parseFaceMode("crop"),
    (e) => e instanceof UserError && /detect, none/.test(e.message),
  );
});
