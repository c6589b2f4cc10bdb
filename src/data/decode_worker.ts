/**
 * A decoding worker for {@link DecodePool}: reads and decodes the files it is sent and posts the
 * packed pixels back (transferred, not copied).
 *
 * @module
 */
import { decodeFiles } from "./decode.ts";
import type { ResizeOptions } from "./resize.ts";

interface _Job {
  id: number;
  paths: string[];
  size: number;
  options: ResizeOptions;
}

const _self = self as unknown as {
  onmessage: ((e: MessageEvent<_Job>) => void) | null;
  postMessage(msg: unknown, transfer?: Transferable[]): void;
};

_self.onmessage = async (e: MessageEvent<_Job>) => {
  const { id, paths, size, options } = e.data;
  try {
    const r = await decodeFiles(paths, size, options);
    _self.postMessage({ id, pixels: r.pixels, failures: r.failures }, [
      r.pixels.buffer as ArrayBuffer,
    ]);
  } catch (err) {
    _self.postMessage({ id, error: (err as Error).message ?? String(err) });
  }
};
