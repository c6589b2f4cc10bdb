/**
 * The face's layout under an expression: where the chin, the mouth line and its corners go,
 * how far the lips part, how thick they are, given the person and the action units. Derived
 * once per image and shared by every part of the renderer.
 *
 * @module
 */
import type { ActionUnits } from "./expressions.ts";
import type { Identity } from "./identity.ts";

/** The expression-dependent geometry derived once per image (face units). */
export interface Geometry {
  chinV: number;
  mouthY: number;
  mouthW: number;
  cornerDY: number;
  openU: number;
  openL: number;
  bow: number;
  upperLip: number;
  lowerLip: number;
  shapeP: number;
  snarl: number;
}

export function faceGeometry(id: Identity, a: ActionUnits): Geometry {
  const press = a.au23;
  const openScale = 1 - 0.85 * press;
  const jaw = a.au26;
  return {
    chinV: id.chinV + 0.2 * jaw + 0.03 * a.au25 - 0.02 * a.au17,
    mouthY: id.mouthV + 0.015 * jaw,
    mouthW: id.mouthW *
      (1 + 0.14 * a.au12 + 0.3 * a.au20 - 0.12 * press - 0.2 * jaw * (1 - a.au20) + 0.05 * a.au10 -
        0.05 * a.au17),
    cornerDY: -0.075 * a.au12 + 0.075 * a.au15 + 0.012 * a.au20 - 0.008 * a.au10 + 0.01 * a.au17,
    openU: (0.003 + 0.05 * a.au10 + 0.018 * a.au12 * a.au25 + 0.012 * a.au25 + 0.015 * jaw) *
      openScale,
    openL: (0.18 * jaw + 0.03 * a.au25 + 0.05 * a.au16 + 0.02 * a.au20 * a.au25) * openScale,
    bow: 0.02 * a.au17 + 0.008 * a.au15,
    upperLip: id.upperLip * (1 - 0.6 * press) * (1 - 0.35 * a.au10) * (1 - 0.2 * a.au12),
    lowerLip: id.lowerLip * (1 - 0.55 * press) * (1 + 0.2 * a.au17) * (1 - 0.15 * a.au20),
    shapeP: 2 + 3 * a.au20 + 1.2 * a.au12 + 1.5 * a.au10,
    snarl: a.au10,
  };
}
