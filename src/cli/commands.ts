/**
 * The table of CLI sub-commands, in the order `--help` lists them.
 *
 * @module
 */
import type { Command } from "./command.ts";

/** Every sub-command, loaded lazily so `cli.ts info` does not pay for training code. */
export const COMMANDS: Record<string, () => Promise<Command>> = {
  info: async () => (await import("./info.ts")).command,
  prepare: async () => (await import("./prepare.ts")).command,
  synth: async () => (await import("./synth.ts")).command,
  train: async () => (await import("./train.ts")).command,
  eval: async () => (await import("./eval.ts")).command,
  predict: async () => (await import("./predict.ts")).command,
  compare: async () => (await import("./compare.ts")).command,
  ensemble: async () => (await import("./ensemble.ts")).command,
  devscore: async () => (await import("./devscore.ts")).command,
  serve: async () => (await import("./serve.ts")).command,
};
