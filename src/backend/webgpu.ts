/**
 * The WebGPU backend: adapter probing, device creation and a numeric self-check.
 *
 * tfjs-backend-webgpu 4.22 registers a factory that fails in Deno on real GPUs: it asks for the
 * feature `['bgra8unorm-storage']` (an array, so "can not be converted to an enum"), and reusing
 * an adapter after a device was made from it fails ("The adapter cannot be reused"). We replace
 * that factory with one that requests a fresh adapter and a device with the adapter's own limits
 * and, where the adapter lists it, `timestamp-query` (so that `tf.profile` reports GPU time per
 * kernel; a failed request falls back to a fresh adapter and no optional features).
 *
 * @module
 */
import { tf, tfwebgpu } from "../deps.ts";
import type { Tensor, Tensor4D } from "../tensors.ts";

/** What we learn about the WebGPU adapter. */
export interface AdapterSummary {
  /** e.g. "llvmpipe (LLVM 15.0.6, 256 bits)" */
  description: string;
  /** The adapter's vendor. */
  vendor: string;
  /** The adapter's architecture. */
  architecture: string;
  /** True for software adapters such as Mesa's llvmpipe (far slower than WASM). */
  isFallback: boolean;
}

/** Options for the adapter request (the test hook is in `selectBackend`). */
const _ADAPTER_OPTIONS = { powerPreference: "high-performance" } as const;

/**
 * Asks for a WebGPU adapter without creating a device (so nothing is held).
 *
 * @returns the adapter's summary, or a reason string when there is none
 */
export async function probeAdapter(): Promise<AdapterSummary | string> {
  const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  if (!gpu) return "navigator.gpu is not available in this runtime";
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter(_ADAPTER_OPTIONS);
  } catch (e) {
    return `requestAdapter failed: ${(e as Error).message}`;
  }
  if (!adapter) return "no WebGPU adapter (no GPU driver, or no Vulkan/Metal/D3D12 loader)";
  return _summary(adapter);
}

function _summary(adapter: GPUAdapter): AdapterSummary {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const isFallback = Boolean(
    info?.isFallbackAdapter ??
      (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ??
      /llvmpipe|lavapipe|swiftshader|software/i.test(info?.description ?? ""),
  );
  return {
    description: info?.description ?? "",
    vendor: info?.vendor ?? "",
    architecture: info?.architecture ?? "",
    isFallback,
  };
}

/** Optional features byel asks for when the adapter has them: GPU timings for profiling. */
export const WEBGPU_FEATURES = ["timestamp-query"] as const;

/** @returns a device on `adapter` with its own limits and `features` */
function _requestDevice(adapter: GPUAdapter, features: GPUFeatureName[]): Promise<GPUDevice> {
  const l = adapter.limits;
  return adapter.requestDevice({
    requiredFeatures: features,
    requiredLimits: {
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    },
  });
}

async function _createBackend(): Promise<tf.KernelBackend> {
  let adapter = await navigator.gpu.requestAdapter(_ADAPTER_OPTIONS);
  if (!adapter) throw new Error("no WebGPU adapter");
  // Only features this adapter lists (Deno rejects names it does not know), one at a time as
  // plain strings; `timestamp-query` gives tf.profile GPU times per kernel.
  const features = WEBGPU_FEATURES.filter((f) => adapter!.features.has(f)) as GPUFeatureName[];
  let device: GPUDevice;
  try {
    device = await _requestDevice(adapter, features);
  } catch (e) {
    if (features.length === 0) throw e;
    // A failed request can invalidate the adapter: start again from a fresh one, no features.
    adapter = await navigator.gpu.requestAdapter(_ADAPTER_OPTIONS);
    if (!adapter) throw new Error("no WebGPU adapter");
    device = await _requestDevice(adapter, []);
  }
  // deno-lint-ignore no-explicit-any
  return new tfwebgpu.WebGPUBackend(device as any, adapter.info as any) as tf.KernelBackend;
}

/**
 * `dataSync()` on WebGPU reads through a 2D canvas that Deno does not have, and fails deep in
 * tfjs with "Cannot read properties of null (reading 'clearRect')". Say what to do instead.
 */
function _patchReadSync(): void {
  const proto = tfwebgpu.WebGPUBackend.prototype as unknown as {
    readSync: (dataId: object) => unknown;
    _byelPatched?: boolean;
  };
  if (proto._byelPatched) return;
  const original = proto.readSync;
  proto.readSync = function (this: unknown, dataId: object) {
    try {
      return original.call(this, dataId);
    } catch (e) {
      if (/clearRect|getContext|OffscreenCanvas/.test(String((e as Error).message))) {
        throw new Error(
          "WebGPU under Deno cannot read tensors synchronously (dataSync/arraySync); " +
            "use `await tensor.data()` or `await tensor.array()`",
        );
      }
      throw e;
    }
  };
  proto._byelPatched = true;
}

/**
 * Replaces tfjs's WebGPU backend factory with ours. Priority 0, so `tf.ready()` without
 * `selectBackend()` never picks a (possibly software) GPU by surprise.
 */
export function registerWebGPU(): void {
  if (!(globalThis.navigator as { gpu?: unknown } | undefined)?.gpu) return;
  if (tf.engine().registryFactory["webgpu"]?.factory === _createBackend) return;
  if (tf.engine().registryFactory["webgpu"]) tf.removeBackend("webgpu");
  _patchReadSync();
  tf.registerBackend("webgpu", _createBackend, 0);
}

/**
 * Checks a convolution and both of its gradients on the active backend against values worked
 * out by hand: `x` = 1..9 as a 3×3 image, a 2×2 filter of ones, valid padding.
 * `y` = [12, 16, 24, 28]; d(Σy)/dW = the same four window sums; d(Σy)/dx counts how many
 * windows cover each pixel: [1, 2, 1, 2, 4, 2, 1, 2, 1].
 *
 * @returns undefined when all match within 1e-4, else a description of the first mismatch
 */
export async function selfCheck(): Promise<string | undefined> {
  const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
  const w = tf.ones([2, 2, 1, 1]) as Tensor4D;
  const f = (a: Tensor, b: Tensor) => tf.sum(tf.conv2d(a as Tensor4D, b as Tensor4D, 1, "valid"));
  try {
    const y = tf.conv2d(x, w, 1, "valid");
    const [dx, dw] = tf.grads(f)([x, w]);
    const got = {
      y: Array.from(await y.data()),
      dw: Array.from(await dw.data()),
      dx: Array.from(await dx.data()),
    };
    tf.dispose([y, dx, dw]);
    const want = { y: [12, 16, 24, 28], dw: [12, 16, 24, 28], dx: [1, 2, 1, 2, 4, 2, 1, 2, 1] };
    for (const k of ["y", "dw", "dx"] as const) {
      if (
        got[k].length !== want[k].length ||
        got[k].some((v, i) => !(Math.abs(v - want[k][i]) < 1e-4))
      ) {
        return `self-check ${k} = [${got[k].join(", ")}], expected [${want[k].join(", ")}]`;
      }
    }
    return undefined;
  } catch (e) {
    return `self-check threw: ${(e as Error).message}`;
  } finally {
    tf.dispose([x, w]);
  }
}
