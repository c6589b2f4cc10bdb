import { deepEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  convFlops,
  convOut,
  denseFlops,
  mlpFlops,
  resnetFlops,
  stepFlops,
  vggFlops,
} from "../../bench/flops.ts";
import { simdModule } from "../../bench/simd_peak.ts";

const R18 = {
  family: "resnet" as const,
  inputNorm: "imagenet" as const,
  norm: "batch" as const,
  depth: 18 as const,
  width: 1,
  stem: "imagenet" as const,
  inputSize: 224,
};

Deno.test("convFlops() counts 2 x outH x outW x k x k x cin x cout", () => {
  // 3x3, stride 1, padding 1 on 8x8: 8x8 outputs, each 9 x 2 x 4 multiply-adds.
  assertEquals(convOut(8, { k: 3, stride: 1 }), 8);
  assertEquals(convFlops(8, { k: 3, stride: 1, cin: 2, cout: 4 }), 2 * 64 * 9 * 2 * 4); // 9216
  // The ImageNet stem at 64 px: (64 + 6 - 7) / 2 + 1 = 32 outputs per side.
  assertEquals(convOut(64, { k: 7, stride: 2 }), 32);
  assertEquals(convFlops(64, { k: 7, stride: 2, cin: 3, cout: 64 }), 2 * 32 * 32 * 49 * 3 * 64);
  // 1x1 stride-2 shortcut on 7x7: outputs at 0, 2, 4, 6.
  assertEquals(convFlops(7, { k: 1, stride: 2, cin: 3, cout: 5 }), 2 * 16 * 3 * 5);
});

Deno.test("denseFlops() and mlpFlops() count 2 x fin x fout per row", () => {
  assertEquals(denseFlops(512, 6), 6144);
  assertEquals(mlpFlops(512, { hidden: 4096, dout: 256 }), 2 * 512 * 4096 + 2 * 4096 * 256);
});

Deno.test("resnetFlops() gives ResNet-18's published 1.82 GMACs at 224 px", () => {
  const gmacs = resnetFlops(R18) / 2e9;
  assert(Math.abs(gmacs - 1.82) < 0.02, `got ${gmacs} GMACs`);
  // 64 px by hand: stem 2*32*32*49*3*64; layer1 four 16x16 3x3 64->64 convs; layers 2-4 each
  // 9,437,184 (strided conv) + 18,874,368 x 3 (3x3 convs) + 1,048,576 (1x1 shortcut).
  const stem = 2 * 32 * 32 * 49 * 3 * 64, layer1 = 4 * 2 * 256 * 9 * 64 * 64;
  const later = 9_437_184 + 3 * 18_874_368 + 1_048_576;
  assertEquals(resnetFlops({ ...R18, inputSize: 64 }), stem + layer1 + 3 * later); // 296,091,648
});

Deno.test("vggFlops() counts two 3x3 convs per stage, halving the side after each", () => {
  // Width 0.25 at 48 px: 16, 32, 64, 128 channels at 48, 24, 12, 6 px.
  const conv = (side: number, cin: number, cout: number) => 2 * side * side * 9 * cin * cout;
  const byHand = conv(48, 3, 16) + conv(48, 16, 16) + conv(24, 16, 32) + conv(24, 32, 32) +
    conv(12, 32, 64) + conv(12, 64, 64) + conv(6, 64, 128) + conv(6, 128, 128); // 60,383,232
  assertEquals(vggFlops({ width: 0.25, inputSize: 48 }), byHand);
  // An odd side drops its last row and column at the pool: 49 px gives 24 px after stage 1.
  assertEquals(
    vggFlops({ width: 0.25, inputSize: 49 }) - vggFlops({ width: 0.25, inputSize: 48 }),
    conv(49, 3, 16) + conv(49, 16, 16) - conv(48, 3, 16) - conv(48, 16, 16),
  );
  const vgg = { ...R18, family: "vgg" as const, width: 0.25, inputSize: 48 };
  assertEquals(stepFlops("inference", vgg), byHand + denseFlops(128, 6));
});

Deno.test("stepFlops() is 1x, 3x and ~8x the encoder for inference, supervised, byel", () => {
  const arch = { ...R18, inputSize: 64 };
  const enc = resnetFlops(arch);
  assertEquals(stepFlops("inference", arch), enc + denseFlops(512, 6));
  assertEquals(stepFlops("supervised", arch), 3 * (enc + denseFlops(512, 6)));
  const byel = stepFlops("byel", arch) / enc;
  assert(byel > 8 && byel < 8.2, `byel step = ${byel} x encoder`);
});

Deno.test("simdModule() assembles valid WASM for mul+add", () => {
  const bytes = simdModule(false);
  assert(WebAssembly.validate(bytes));
  const run = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.run as (
    n: number,
  ) => number;
  // Each of the 12 chains starts at i/16 and converges to a / (1 - m) = 1.
  assert(Math.abs(run(200_000) - 12) < 0.01);
});
