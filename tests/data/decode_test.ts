import assert from "node:assert/strict";
import {
  DecodeError,
  decodeImage,
  decodeImageFile,
  decodeToSquare,
  loadFastJpeg,
  useJpegDecoder,
} from "../../src/data/decode.ts";
import { axisTaps, resizeSquare } from "../../src/data/resize.ts";
import { UserError } from "../../src/errors.ts";
import { flat, jpegBytes, pngBytes } from "../_helpers/fixtures.ts";

Deno.test("decodeImage() reads 8-bit RGB, RGBA, gray and gray+alpha PNG", () => {
  const rgb = decodeImage(pngBytes(2, 1, new Uint8Array([1, 2, 3, 4, 5, 6])));
  assert.deepEqual([rgb.width, rgb.height, [...rgb.data]], [2, 1, [1, 2, 3, 4, 5, 6]]);
  const rgba = decodeImage(pngBytes(1, 1, new Uint8Array([7, 8, 9, 0]), { channels: 4 }));
  assert.deepEqual([...rgba.data], [7, 8, 9]); // alpha dropped, as PIL convert("RGB")
  const gray = decodeImage(pngBytes(2, 1, new Uint8Array([0, 200]), { channels: 1 }));
  assert.deepEqual([...gray.data], [0, 0, 0, 200, 200, 200]);
  const ga = decodeImage(pngBytes(1, 1, new Uint8Array([77, 10]), { channels: 2 }));
  assert.deepEqual([...ga.data], [77, 77, 77]);
});

Deno.test("decodeImage() rounds 16-bit PNG samples to 8 bits and unpacks low-depth gray", () => {
  const img = decodeImage(
    pngBytes(2, 1, new Uint16Array([65535, 25700, 32896, 1000, 0, 257]), { depth: 16 }),
  );
  assert.deepEqual([...img.data], [255, 100, 128, 4, 0, 1]);
  const g16 = decodeImage(pngBytes(1, 1, new Uint16Array([51400]), { channels: 1, depth: 16 }));
  assert.deepEqual([...g16.data], [200, 200, 200]);
  // 2-bit gray: 0,1,2,3 -> 0,85,170,255; row of 5 pads to 2 bytes
  const g2 = decodeImage(
    pngBytes(5, 1, new Uint8Array([0b00011011, 0b11000000]), { channels: 1, depth: 2 }),
  );
  assert.deepEqual([...g2.data].filter((_, i) => i % 3 === 0), [0, 85, 170, 255, 255]);
});

Deno.test("decodeImage() maps palette PNG through its palette", () => {
  const palette = [[255, 0, 0], [0, 255, 0], [0, 0, 255]];
  const img = decodeImage(pngBytes(2, 2, new Uint8Array([0, 1, 2, 1]), { channels: 1, palette }));
  assert.deepEqual([...img.data], [255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 255, 0]);
});

Deno.test("decodeImage() reads JPEG colour and gray content within codec error", () => {
  const img = decodeImage(jpegBytes(9, 7, flat(9, 7, 200, 40, 90)));
  assert.equal(img.width, 9);
  assert.equal(img.height, 7);
  for (let i = 0; i < 63; i++) {
    assert.ok(Math.abs(img.data[i * 3] - 200) <= 3);
    assert.ok(Math.abs(img.data[i * 3 + 1] - 40) <= 3);
    assert.ok(Math.abs(img.data[i * 3 + 2] - 90) <= 3);
  }
  const gray = decodeImage(jpegBytes(8, 8, flat(8, 8, 120, 120, 120)));
  for (let i = 0; i < 64 * 3; i++) assert.ok(Math.abs(gray.data[i] - 120) <= 2);
});

Deno.test("decodeImage() classifies empty, unsupported, truncated and corrupt data", () => {
  const reason = (b: Uint8Array) => {
    try {
      decodeImage(b);
      return "ok";
    } catch (e) {
      assert.ok(e instanceof DecodeError);
      return e.reason;
    }
  };
  const j = jpegBytes(16, 16, flat(16, 16, 1, 2, 3));
  const p = pngBytes(16, 16, flat(16, 16, 1, 2, 3));
  assert.equal(reason(new Uint8Array(0)), "empty");
  assert.equal(reason(new TextEncoder().encode("GIF89a......")), "unsupported");
  assert.equal(reason(j.slice(0, j.length >> 1)), "corrupt");
  assert.equal(reason(p.slice(0, p.length - 20)), "corrupt");
  const garbled = j.slice();
  garbled.fill(0x12, 4, 60); // headers destroyed after the SOI marker
  assert.equal(reason(garbled), "corrupt");
});

Deno.test("axisTaps() weights shrinking by exact area and enlarging by bilinear/bicubic", () => {
  const area = axisTaps(3, 2);
  assert.deepEqual([area.start[0], area.count[0], area.start[1], area.count[1]], [0, 2, 1, 2]);
  assert.deepEqual([...area.weights.slice(0, 2)].map((w) => w * 3), [2, 1]);
  const bic = axisTaps(2, 4, "bicubic");
  // output 1: centre 0.25 -> taps at -1..2 with Keys(a=-0.5) weights
  assert.deepEqual([...bic.weights.slice(4, 8)], [-0.0703125, 0.8671875, 0.2265625, -0.0234375]);
});

Deno.test("resizeSquare() area-averages when shrinking (hand-computed)", () => {
  // 4x4 -> 2x2: each output is the mean of a 2x2 block.
  const data = new Uint8Array(48);
  for (let y = 0; y < 4; y++) {
    for (let x = 0; x < 4; x++) data.fill(y * 40 + x * 10, (y * 4 + x) * 3, (y * 4 + x) * 3 + 3);
  }
  const out = resizeSquare({ width: 4, height: 4, data }, 2);
  // block (0,0): 0,10,40,50 -> 25; (0,1): 20,30,60,70 -> 45; (1,0): 80..130 -> 105; (1,1) -> 125
  assert.deepEqual([...out].filter((_, i) => i % 3 === 0), [25, 45, 105, 125]);
  // 3 -> 2 along rows (columns constant): (0*1 + 90*0.5)/1.5 = 30, (90*0.5 + 180)/1.5 = 150
  const row = new Uint8Array(27);
  for (let y = 0; y < 3; y++) {
    for (let x = 0; x < 3; x++) row.fill(x * 90, (y * 3 + x) * 3, (y * 3 + x) * 3 + 3);
  }
  assert.deepEqual(
    [...resizeSquare({ width: 3, height: 3, data: row }, 2)].filter((_, i) => i % 3 === 0),
    [30, 150, 30, 150],
  );
});

Deno.test("resizeSquare() centre-crops non-square images and enlarges bilinear or bicubic", () => {
  // 6x2: columns 0..5 valued 0,10,..,50; crop keeps columns 2,3 -> 20, 30
  const data = new Uint8Array(36);
  for (let y = 0; y < 2; y++) {
    for (let x = 0; x < 6; x++) data.fill(x * 10, (y * 6 + x) * 3, (y * 6 + x) * 3 + 3);
  }
  assert.deepEqual(
    [...resizeSquare({ width: 6, height: 2, data }, 2)].filter((_, i) => i % 3 === 0),
    [20, 30, 20, 30],
  );
  // 2x2 -> 4x4, columns 0 and 200
  const two = new Uint8Array(12);
  two.fill(200, 3, 6);
  two.fill(200, 9, 12);
  const firstRow = (o: Uint8Array) => [...o.slice(0, 12)].filter((_, i) => i % 3 === 0);
  assert.deepEqual(
    firstRow(resizeSquare({ width: 2, height: 2, data: two }, 4, { upscale: "bilinear" })),
    [0, 50, 150, 200],
  );
  // bicubic output 1: 200 * (0.2265625 - 0.0234375) = 40.625 -> 41; output 3 (centre 1.25, edge
  // replicated): 200 * (0.8671875 + 0.2265625 - 0.0234375) = 214.06 -> 214 (bicubic overshoot)
  assert.deepEqual(firstRow(resizeSquare({ width: 2, height: 2, data: two }, 4)), [
    0,
    41,
    159,
    214,
  ]);
});

Deno.test("decodeToSquare() and decodeImageFile() give [S,S,3] in [0,1] and name bad files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(
      `${dir}/g.png`,
      pngBytes(4, 4, new Uint8Array(16).fill(51), { channels: 1 }),
    );
    const x = await decodeImageFile(`${dir}/g.png`, 8);
    assert.equal(x.length, 8 * 8 * 3);
    for (const v of x) assert.equal(v, Math.fround(51 / 255));
    assert.equal(decodeToSquare(pngBytes(3, 5, flat(3, 5, 9, 9, 9)), 3).length, 27);
    await Deno.writeFile(`${dir}/bad.jpg`, new Uint8Array([1, 2, 3]));
    await assert.rejects(
      () => decodeImageFile(`${dir}/bad.jpg`, 8),
      (e) => e instanceof UserError && /bad\.jpg/.test(e.message),
    );
    await assert.rejects(
      () => decodeImageFile(`${dir}/none.png`, 8),
      (e) => e instanceof UserError && /none\.png: no such file/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("libjpeg-turbo and jpeg-js decode the same JPEG within rounding; damaged files fail in both", async () => {
  assert.equal(await loadFastJpeg(), "libjpeg-turbo");
  const rgb = new Uint8Array(33 * 21 * 3).map((_, i) => (i * 37) % 251);
  const j = jpegBytes(33, 21, rgb, 90);
  const turbo = decodeImage(j);
  assert.equal(await useJpegDecoder("jpeg-js"), "jpeg-js");
  try {
    const js = decodeImage(j);
    assert.deepEqual([js.width, js.height], [turbo.width, turbo.height]);
    let worst = 0;
    for (let i = 0; i < js.data.length; i++) {
      worst = Math.max(worst, Math.abs(js.data[i] - turbo.data[i]));
    }
    assert.ok(worst <= 4, `max difference ${worst}`);
  } finally {
    assert.equal(await useJpegDecoder("libjpeg-turbo"), "libjpeg-turbo");
  }
  const garbled = j.slice();
  garbled.fill(0x12, 4, 60);
  assert.throws(() => decodeImage(garbled), DecodeError);
  assert.throws(() => decodeImage(j.slice(0, j.length - 40)), DecodeError);
  // The decoder survives the failures.
  assert.deepEqual(decodeImage(j).data, turbo.data);
});
