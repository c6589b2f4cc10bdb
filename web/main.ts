/// <reference lib="dom" />
/**
 * The browser page of `cli.ts serve`: it loads a model (the shipped one, or `?model=URL`) and
 * the face stage with byel's own code, bundled for the browser, and reads every face in a photo
 * the user drops or picks, or in the webcam, drawing each face's box and the six class
 * probabilities. `?sample` classifies the bundled sample image at once and writes the result
 * into `#result` (`data-state="done"`), for tests. Everything is served by byel itself.
 *
 * The pipeline is the library's: `decodeImage` (the same PNG/JPEG decoders as `predict`),
 * `FaceStage` (detector, landmarks, the canonical aligned crop) and `classifyPhoto`.
 *
 * @module
 */
import { selectBrowserBackend } from "../src/backend/browser.ts";
import { decodeImage } from "../src/data/decode.ts";
import { EMOTIONS } from "../src/emotions.ts";
import { classifyPhoto, type FaceResult } from "../src/eval/photos.ts";
import { FaceStage } from "../src/face/stage.ts";
import type { RgbInput } from "../src/face/warp.ts";
import { load } from "../src/model/classifier.ts";
import { describeModel } from "../src/model/ensemble.ts";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const status = $<HTMLParagraphElement>("status");
const result = $<HTMLPreElement>("result");
const canvas = $<HTMLCanvasElement>("view");
const ctx = canvas.getContext("2d")!;
const COLOURS = ["#d62728", "#8c564b", "#9467bd", "#2ca02c", "#1f77b4", "#ff7f0e"];

function say(text: string): void {
  status.textContent = text;
}

/** Draws the photo, then each face's box and its six probabilities as bars. */
function draw(source: CanvasImageSource, w: number, h: number, faces: FaceResult[]): void {
  const scale = Math.min(1, 720 / Math.max(w, h));
  canvas.width = Math.round(w * scale);
  canvas.height = Math.round(h * scale);
  ctx.drawImage(source, 0, 0, canvas.width, canvas.height);
  ctx.font = "12px sans-serif";
  for (const f of faces) {
    const [x, y, bw, bh] = f.box.map((v) => v * scale);
    ctx.strokeStyle = f.source === "detector" ? "#00e0ff" : "#ffbf00";
    ctx.lineWidth = 2;
    ctx.strokeRect(x, y, bw, bh);
    // one row per class: name, percentage (right-aligned), bar, each in its own column
    const bx = Math.min(x + bw + 4, canvas.width - 172), by = Math.max(0, y);
    ctx.fillStyle = "rgba(0, 0, 0, 0.6)";
    ctx.fillRect(bx, by, 170, 6 * 16 + 4);
    EMOTIONS.forEach((e, k) => {
      const p = f.probabilities[e];
      ctx.fillStyle = COLOURS[k];
      ctx.fillRect(bx + 108, by + 4 + k * 16, 58 * p, 12);
      ctx.fillStyle = e === f.class ? "#ffffff" : "#cccccc";
      ctx.textAlign = "left";
      ctx.fillText(e, bx + 3, by + 14 + k * 16);
      ctx.textAlign = "right";
      ctx.fillText(`${(100 * p).toFixed(0)}%`, bx + 104, by + 14 + k * 16);
    });
  }
}

/** The photo's pixels as RGB (from an image, a canvas or a video frame). */
function pixelsOf(source: CanvasImageSource, w: number, h: number): RgbInput {
  const off = document.createElement("canvas");
  off.width = w;
  off.height = h;
  const c = off.getContext("2d")!;
  c.drawImage(source, 0, 0);
  const rgba = c.getImageData(0, 0, w, h).data;
  const data = new Uint8Array(w * h * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    data[j] = rgba[i];
    data[j + 1] = rgba[i + 1];
    data[j + 2] = rgba[i + 2];
  }
  return { width: w, height: h, data };
}

function show(name: string, faces: FaceResult[]): void {
  const found = faces.filter((f) => f.source === "detector").length;
  say(
    `${name}: ${
      found ? `${found} face${found === 1 ? "" : "s"}` : "no face found (whole image read)"
    }` +
      ` · ${faces.map((f) => f.class).join(", ")}`,
  );
  result.textContent = JSON.stringify(
    faces.map((f) => ({
      box: f.box.map((v) => Number(v.toFixed(1))),
      source: f.source,
      class: f.class,
      probabilities: Object.fromEntries(
        EMOTIONS.map((e) => [e, Number(f.probabilities[e].toFixed(6))]),
      ),
    })),
    null,
    1,
  );
  result.dataset.state = "done";
}

async function main(): Promise<void> {
  const backend = await selectBrowserBackend({
    wasmPath: new URL("/tfjs-wasm/", location.href).href,
    prefer: (params.get("backend") as "wasm" | null) ?? "auto",
  });
  $<HTMLSpanElement>("backend").textContent = backend.name +
    (backend.skipped.length ? ` (skipped ${backend.skipped.join("; ")})` : "");
  const modelUrl = new URL(params.get("model") ?? "/models/shipped/", location.href).href;
  say(`loading the model ${modelUrl} and the face stage…`);
  const [model, face] = await Promise.all([
    load(modelUrl),
    FaceStage.load(new URL("/models/face/", location.href), { worker: false }),
  ]);
  $<HTMLSpanElement>("model").textContent = `${modelUrl} (${describeModel(model.metadata)})`;
  say("ready: drop a photo, pick one, or start the webcam");

  /** Reads a photo given as file bytes (PNG or JPEG), exactly as `predict` would. */
  const readBytes = async (name: string, bytes: Uint8Array) => {
    const img = decodeImage(bytes);
    const faces = await classifyPhoto(model, img, { face, maxFaces: 8 });
    const bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]));
    draw(bitmap, img.width, img.height, faces);
    show(name, faces);
  };

  if (params.has("sample")) {
    const r = await fetch("/sample.png");
    await readBytes("sample.png", new Uint8Array(await r.arrayBuffer()));
  }
  const pick = $<HTMLInputElement>("pick");
  pick.onchange = async () => {
    const f = pick.files?.[0];
    if (f) await readBytes(f.name, new Uint8Array(await f.arrayBuffer()));
  };
  document.body.ondragover = (e) => e.preventDefault();
  document.body.ondrop = async (e) => {
    e.preventDefault();
    const f = e.dataTransfer?.files?.[0];
    if (f) await readBytes(f.name, new Uint8Array(await f.arrayBuffer()));
  };
  const camera = $<HTMLButtonElement>("camera");
  camera.onclick = async () => {
    const video = document.createElement("video");
    video.srcObject = await navigator.mediaDevices.getUserMedia({ video: true });
    await video.play();
    camera.disabled = true;
    const tick = async () => {
      const w = video.videoWidth, h = video.videoHeight;
      if (w && h) {
        const faces = await classifyPhoto(model, pixelsOf(video, w, h), { face, maxFaces: 4 });
        draw(video, w, h, faces);
        show("webcam", faces);
      }
      requestAnimationFrame(() => void tick());
    };
    await tick();
  };
}

main().catch((e) => {
  say(`error: ${(e as Error).message}`);
  result.dataset.state = "error";
  result.textContent = String((e as Error).stack ?? e);
});
