import assert from "node:assert/strict";
import { encodePng } from "../../src/data/synth/sheet.ts";
import { FaceDecoder, FaceStage, parseFaceMode } from "../../src/face/stage.ts";
import { frontalFace, place, similarity } from "../_helpers/faces.ts";
import { UserError } from "../../src/errors.ts";

Deno.test("FaceStage (in its worker) finds both faces of a two-face photo, boxes around each", async () => {
  const stage = await FaceStage.load();
  try {
    const a = frontalFace(4).img, b = frontalFace(5).img;
    // two faces side by side in one 320 x 160 photo
    const left = place(a, similarity(a, { deg: 0, k: 1, cx: 80, cy: 80 }), 160, 160);
    const right = place(b, similarity(b, { deg: 5, k: 1.1, cx: 80, cy: 80 }), 160, 160);
    const data = new Float32Array(320 * 160 * 3);
    for (let y = 0; y < 160; y++) {
      data.set(left.data.subarray(y * 480, (y + 1) * 480), y * 960);
      data.set(right.data.subarray(y * 480, (y + 1) * 480), y * 960 + 480);
    }
    const faces = await stage.faces({ width: 320, height: 160, data }, { size: 48, maxFaces: 8 });
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
    const noise = new Float32Array(64 * 64 * 3).map((_, i) =>
      (Math.sin(i * 12.9898) * 43758.5453) % 1 * 0.5 + 0.5
    );
    await Deno.writeFile(`${dir}/noise.png`, encodePng(noise, 64));
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

Deno.test("parseFaceMode() takes detect and none, defaulting to detect", () => {
  assert.equal(parseFaceMode(undefined), "detect");
  assert.equal(parseFaceMode("none"), "none");
  assert.throws(
    () => parseFaceMode("crop"),
    (e) => e instanceof UserError && /detect, none/.test(e.message),
  );
});
