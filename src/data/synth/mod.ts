/**
 * The procedural face generator: identities, action-unit expressions, a 2.5D shaded renderer,
 * capture randomisation, two domains, the `SyntheticFaces` dataset and contact sheets.
 *
 * @example
 * ```ts
 * import { SyntheticFaces } from "./mod.ts";
 * const train = new SyntheticFaces({ domain: "synthetic", seed: 1, size: 64, length: 60000 });
 * const b = await train.batch([0, 1, 2, 3, 4, 5]); // one person, six expressions
 * ```
 *
 * @module
 */
export { applyCamera, type Capture, sampleCapture } from "./capture.ts";
export { SyntheticFaces, type SyntheticFacesOptions } from "./dataset.ts";
export {
  DOMAIN_SPECS,
  type DomainName,
  DOMAINS,
  type DomainSpec,
  globalIdentity,
} from "./domains.ts";
export { type ActionUnits, neutralAus, sampleExpression } from "./expressions.ts";
export { type Identity, makeIdentity, type Rgb } from "./identity.ts";
export { MAX_SIZE, MIN_SIZE, renderFace } from "./render.ts";
export { contactSheet, type ContactSheetOptions, encodePng } from "./sheet.ts";
