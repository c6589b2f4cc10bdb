import assert from "node:assert/strict";
import { sampleExpression } from "../../../src/data/synth/expressions.ts";

Deno.test("sampleExpression() gives each class its prototype action units", () => {
  let sad = 0, ang = 0, hap = 0, sur = 0;
  for (let i = 0; i < 200; i++) {
    const s = sampleExpression("sadness", 1, i), a = sampleExpression("anger", 1, i);
    const h = sampleExpression("happiness", 1, i), u = sampleExpression("surprise", 1, i);
    sad += s.au1 > 0.15 && s.au15 > 0.15 ? 1 : 0;
    ang += a.au4 > 0.2 && a.au7 > 0.2 && a.au5 < 0.3 ? 1 : 0;
    hap += h.au12 > 0.15 && h.au6 > 0.1 ? 1 : 0;
    sur += u.au26 > 0.15 && u.au2 > 0.2 ? 1 : 0;
  }
  assert.ok(sad > 190 && ang > 190 && hap > 190 && sur > 190, `${sad} ${ang} ${hap} ${sur}`);
});
