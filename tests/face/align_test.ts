import assert from "node:assert/strict";
import { alignFace, alignmentAffine, canonicalLandmarks } from "../../src/face/align.ts";
import { CANONICAL } from "../../src/face/canonical.ts";
import { FaceStage } from "../../src/face/stage.ts";
import { selectBackend } from "../../src/backend/select.ts";
import { applyAffine, invertAffine, type Point } from "../../src/face/warp.ts";
import { frontalFace, place, similarity } from "../_helpers/faces.ts";

await selectBackend({ backend: "wasm" });
const stage = await FaceStage.load(undefined, { worker: false });

Deno.test("alignmentAffine() puts given eyes on the canonical points exactly", () => {
  const lm = {
    leftEye: [40, 80] as Point,
    rightEye: [90, 60] as Point,
    nose: [70, 100] as Point,
    mouthLeft: [60, 140] as Point,
    mouthRight: [100, 125] as Point,
  };
  const m = alignmentAffine(lm, 64, { scaleFrom: "eyes" });
  const inv = invertAffine(m);
  const [lx, ly] = applyAffine(inv, lm.leftEye), [rx, ry] = applyAffine(inv, lm.rightEye);
  const c = CANONICAL;
  for (
    const [got, want] of [
      [lx, 32 - c.eyeDist * 32],
      [rx, 32 + c.eyeDist * 32],
      [ly, c.eyeY * 64],
      [ry, c.eyeY * 64],
    ]
  ) assert.ok(Math.abs(got - want) < 1e-9, `${got} vs ${want}`);
  // The fallback's landmarks are the canonical points of the centred square.
  const f = canonicalLandmarks(100, 80);
  assert.deepEqual(f.leftEye, [10 + (0.5 - c.eyeDist / 2) * 80, c.eyeY * 80]);
});

Deno.test("a detected synthetic face, rotated and scaled in a photo, aligns with its eyes on the canonical line within a pixel", async () => {
  for (const [k, deg, scale] of [[0, 20, 1.2], [1, -15, 0.8], [2, 8, 1.5]]) {
    const { img, eyeMid } = frontalFace(k);
    const toSrc = similarity(img, { deg, k: scale, cx: 130, cy: 120 });
    const photo = place(img, toSrc, 256, 256);
    const trueMid = applyAffine(invertAffine(toSrc), eyeMid); // in the photo
    const [face] = await stage.faces(photo, { size: 64 });
    assert.equal(face.source, "detector", `face ${k} not found`);
    const crop = alignmentAffine(face.landmarks, 64); // crop -> photo
    const [x, y] = applyAffine(invertAffine(crop), trueMid);
    assert.ok(
      Math.abs(x - 32) < 1 && Math.abs(y - CANONICAL.eyeY * 64) < 1,
      `face ${k}: eyes at ${x}, ${y}`,
    );
    // the eye line is level: the detected eyes' angle matches the rotation we applied
    const { leftEye: l, rightEye: r } = face.landmarks;
    const angle = (Math.atan2(r[1] - l[1], r[0] - l[0]) * 180) / Math.PI;
    assert.ok(Math.abs(angle - deg) < 3, `face ${k}: eye line at ${angle} degrees, not ${deg}`);
  }
});

Deno.test("a rotated and scaled copy of a photo aligns to the same crop", async () => {
  const { img } = frontalFace(3);
  const a = place(img, similarity(img, { deg: 0, k: 1, cx: 100, cy: 100 }), 200, 200);
  const b = place(img, similarity(img, { deg: -25, k: 1.4, cx: 120, cy: 90 }), 240, 220);
  const [fa] = await stage.faces(a, { size: 48 });
  const [fb] = await stage.faces(b, { size: 48 });
  const other = await stage.faces(frontalFace(9).img, { size: 48 });
  const diff = (p: Float32Array, q: Float32Array) =>
    p.reduce((s, v, i) => s + Math.abs(v - q[i]), 0) / p.length;
  const same = diff(fa.crop, fb.crop), different = diff(fa.crop, other[0].crop);
  assert.ok(same < 0.04, `the two crops differ by ${same} per value`);
  assert.ok(same < different / 3, `same face ${same} vs another face ${different}`);
  // alignFace itself is that warp
  assert.deepEqual(alignFace(a, fa.landmarks, 48).data, fa.crop);
});
