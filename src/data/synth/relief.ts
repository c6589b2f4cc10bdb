/**
 * The face's relief in the height field: brow ridge, eye sockets and eyeballs, cheeks, nose,
 * folds, furrows and wrinkles, each moved by the action units, so every expression casts its
 * own shadows under any light.
 *
 * @module
 */
import type { ActionUnits } from "./expressions.ts";
import type { Identity } from "./identity.ts";
import type { Canvas } from "./canvas.ts";
import type { Geometry } from "./geometry.ts";

/** Brow ridge, sockets, nose, cheeks, folds, furrows and wrinkles: the height field's relief. */
export function shapeRelief(c: Canvas, id: Identity, a: ActionUnits, g: Geometry): void {
  const m = id.male ? 1 : 0;
  const age = id.age;
  const es = id.eyeSep, ew = id.eyeW;
  const browY = -id.browV;
  for (const sg of [-1, 1]) {
    // Brow ridge follows the brow; AU4 bunches it towards the midline and down.
    const inY = browY + 0.03 - 0.08 * a.au1 + 0.06 * a.au4;
    const outY = browY + 0.01 - 0.08 * a.au2 + 0.03 * a.au4;
    c.ridge(
      sg * (es - ew * 0.9 - 0.03 * a.au4),
      inY,
      sg * (es + ew * 1.3),
      outY,
      0.12,
      0.1,
      0.035 + 0.02 * m,
    );
    // Eye socket, deepest under the brow's inner end; lid tightening fills it a little.
    c.bump(sg * (es - 0.01), -0.02, ew * 1.65, 0.17, -0.085 + 0.02 * a.au7);
    c.bump(sg * (es - ew * 0.7), -0.1, 0.06, 0.06, -0.03);
    // Eyeball under the lids.
    c.bump(sg * es, 0.0, ew * 1.05, ew * 0.8, 0.05);
    // Cheeks: AU6 and AU12 lift and round them; fuller in the young.
    const chV = 0.3 - 0.07 * a.au6 - 0.04 * a.au12 + 0.05 * age;
    c.bump(
      sg * (es + 0.04),
      chV,
      0.24,
      0.2,
      0.04 + 0.04 * id.cheekFull + 0.06 * a.au6 + 0.04 * a.au12 + 0.02 * a.au10,
    );
    // Lower-lid bulge pushed up by the cheek (AU6) and age bags.
    c.ridge(
      sg * (es - ew * 0.6),
      0.085,
      sg * (es + ew * 0.8),
      0.08,
      0.04,
      0.04,
      0.005 + 0.015 * a.au6 + 0.01 * age,
    );
    c.ridge(
      sg * (es - ew * 0.8),
      0.13 - 0.03 * a.au6,
      sg * (es + ew * 0.9),
      0.12 - 0.03 * a.au6,
      0.02,
      0.02,
      -(0.002 + 0.008 * a.au6 + 0.008 * age),
    );
    // Crow's feet (AU6, age).
    const cf = 0.006 * a.au6 + 0.006 * age * age;
    if (cf > 0.002) {
      for (const ang of [-0.45, 0, 0.45]) {
        const x0 = sg * (es + ew * 1.15), y0 = 0.0;
        c.ridge(x0, y0 + ang * 0.02, x0 + sg * 0.07, y0 + ang * 0.07, 0.012, 0.008, -cf);
      }
    }
    // Nose wings and nostrils: AU9/AU10 pull them up and flare them.
    const alU = sg * (id.noseW * 0.85 + 0.01 * a.au9),
      alV = id.noseV + 0.015 - 0.03 * a.au9 - 0.02 * a.au10;
    c.bump(alU, alV, 0.06, 0.05, id.noseH * 0.32);
    c.bump(sg * id.noseW * 0.45, alV + 0.035, 0.03, 0.018, -0.03);
    // Alar crease and the nasolabial fold down to just beyond the mouth corner.
    const fold = 0.003 + 0.01 * age + 0.012 * a.au6 + 0.03 * a.au12 + 0.035 * a.au9 +
      0.04 * a.au10 +
      0.012 * a.au20 + 0.006 * id.cheekFull;
    const cu = sg * (g.mouthW + 0.045), cv = g.mouthY + g.cornerDY + 0.02;
    const su = alU + sg * 0.045, sv = alV - 0.01;
    c.curveRidge(su, sv, sg * (g.mouthW + 0.12), (sv + cv) * 0.5 + 0.02, cu, cv, 0.05, -fold);
    // The cheek side of the fold bulges.
    c.curveRidge(
      su + sg * 0.05,
      sv,
      sg * (g.mouthW + 0.18),
      (sv + cv) * 0.5,
      cu + sg * 0.05,
      cv - 0.03,
      0.075,
      fold * 0.6,
    );
    // Marionette lines below the corners (AU15, age).
    const mar = 0.012 * a.au15 + 0.008 * age;
    c.ridge(cu - sg * 0.03, cv + 0.02, cu + sg * 0.0, cv + 0.15, 0.025, 0.02, -mar);
    // Corner dimples.
    c.bump(
      sg * (g.mouthW + 0.01),
      g.mouthY + g.cornerDY,
      0.035,
      0.035,
      -0.008 - 0.012 * a.au12 - 0.008 * a.au15,
    );
  }
  // Nose: bridge, tip, columella; root dent between the eyes.
  const nh = id.noseH;
  c.ridge(0, -0.04, 0, 0.16, 0.1, 0.12, nh * 0.17);
  c.ridge(0, 0.1, 0, id.noseV - 0.03, 0.12, 0.13, nh * 0.3);
  c.bump(0, id.noseV - 0.005 - 0.015 * a.au9, id.noseW * 0.7, 0.075, nh * 0.55);
  c.bump(0, -0.05, 0.08, 0.05, -0.02);
  // Nose wrinkle (AU9): horizontal creases across the upper bridge, skin bunched between.
  if (a.au9 > 0.05) {
    for (let i = 0; i < 3; i++) {
      const y = -0.03 + i * 0.045;
      c.ridge(-0.085, y + 0.01, 0.085, y + 0.01, 0.018, 0.018, -0.012 * a.au9);
      c.ridge(-0.07, y - 0.012, 0.07, y - 0.012, 0.018, 0.018, 0.008 * a.au9);
    }
  }
  // Grief: AU1 with AU4 bunches the centre of the forehead above the raised inner brows.
  c.bump(0, browY - 0.1, 0.16, 0.08, 0.03 * a.au1 * a.au4);
  // Brow furrows (AU4) and a bulge between the brows.
  if (a.au4 > 0.05) {
    c.bump(0, browY + 0.02, 0.1, 0.07, 0.02 * a.au4);
    for (const sg of [-1, 1]) {
      c.ridge(sg * 0.035, browY - 0.09, sg * 0.045, browY + 0.07, 0.018, 0.018, -0.02 * a.au4);
    }
  }
  // Forehead lines: AU1 raises the centre, AU2 the sides; deeper with age.
  const fl = 0.007 * a.au1 + 0.006 * a.au2 + 0.005 * age;
  if (fl > 0.003) {
    const wide = 0.18 + 0.25 * (a.au2 / (a.au1 + a.au2 + 1e-3)) + 0.1 * age;
    for (let i = 0; i < 3; i++) {
      const y = browY - 0.14 - i * 0.07;
      c.curveRidge(
        -wide,
        y + 0.025,
        0,
        y - 0.02 * a.au1,
        wide,
        y + 0.025,
        0.018,
        -fl * (1 - i * 0.2),
        3,
      );
    }
  }
  // Philtrum and upper-lip skin; mentolabial sulcus under the lower lip; chin (AU17 bulges).
  const mY = g.mouthY;
  c.ridge(0, id.noseV + 0.06, 0, mY - g.upperLip - g.openU, 0.025, 0.03, -0.01);
  const lipBot = mY + g.openL + g.lowerLip;
  c.ridge(
    -g.mouthW * 0.6,
    lipBot + 0.04,
    g.mouthW * 0.6,
    lipBot + 0.04,
    0.04,
    0.04,
    -0.012 - 0.015 * a.au17,
  );
  c.bump(0, g.chinV - 0.13 - 0.03 * a.au17, 0.17, 0.12, 0.05 + 0.06 * a.au17);
  c.bump(0, mY + 0.01, g.mouthW + 0.05, 0.12, 0.04 + 0.02 * a.au17);
}
