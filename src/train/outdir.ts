/**
 * A run's output folder: one run at a time, never overwritten by accident. `claimOutDir`
 * refuses a folder that already holds a run unless the caller continues it (`resume`) or
 * replaces it whole (`overwrite`, which removes the old run's files first), and holds an
 * exclusive lock on `.lock` in it (an OS file lock, released by the system when the process
 * ends in any way), so that a second run started on the same folder fails at once, naming the
 * first. A `.lock` left by a run that died is unlocked, and is taken over with a notice.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { ensureDir, exists } from "../fsutil.ts";

/** The lock file's name inside the output folder. */
export const LOCK_FILE = ".lock";

/** What a previous run leaves in its folder. */
const _RUN_FILES = ["checkpoint", "model", "best", "report.html", "metrics.json"];

interface _Lock {
  pid: number;
  host: string;
  started: string;
}

/** The machine's name, when permitted (`--allow-sys`), for the lock's message. */
function _hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "";
  }
}

/** A claimed output folder. */
export interface OutDirClaim {
  /** Unlocks and removes the lock file. */
  release(): Promise<void>;
}

/**
 * Claims `outDir` for a run.
 *
 * @param outDir the run's folder (created when missing)
 * @param opts `resume`: continue the run in it; `overwrite`: remove a previous run's files
 *   first; `log` for the notices
 * @returns the claim (release it when the run ends)
 * @throws UserError when the folder holds a run and neither option is given, or another run
 *   is using it
 */
export async function claimOutDir(
  outDir: string,
  opts: { resume?: boolean; overwrite?: boolean; log?: (line: string) => void } = {},
): Promise<OutDirClaim> {
  const log = opts.log ?? ((l: string) => console.log(l));
  await ensureDir(outDir);
  const path = `${outDir}/${LOCK_FILE}`;
  const file = await Deno.open(path, { read: true, write: true, create: true });
  let previous: _Lock | undefined;
  try {
    previous = JSON.parse(await new Response(file.readable).text()) as _Lock;
  } catch { /* empty or new */ }
  const lock = await Deno.open(path, { read: true, write: true });
  if (!(await lock.tryLock(true))) {
    lock.close();
    throw new UserError(
      `--out ${outDir} is in use by another run (process ${previous?.pid ?? "?"} on ` +
        `${previous?.host || "this machine"}, started ${previous?.started ?? "?"}); wait for it ` +
        `to finish or choose another --out`,
    );
  }
  if (previous) {
    log(`notice: ${outDir}: took over the lock of process ${previous.pid}, which is gone`);
  }
  const me: _Lock = { pid: Deno.pid, host: _hostname(), started: new Date().toISOString() };
  await lock.truncate(0);
  await lock.write(new TextEncoder().encode(JSON.stringify(me) + "\n"));
  const release = async () => {
    await Deno.remove(path).catch(() => {});
    await lock.unlock().catch(() => {});
    lock.close();
  };
  try {
    const present = [];
    for (const f of _RUN_FILES) if (await exists(`${outDir}/${f}`)) present.push(f);
    if (opts.resume) {
      if (!present.includes("checkpoint")) {
        throw new UserError(
          `--resume: no checkpoint in ${outDir}/checkpoint; start without --resume`,
        );
      }
    } else if (present.length && !opts.overwrite) {
      throw new UserError(
        `--out ${outDir} already holds a run (${present.join(", ")}); continue it with --resume, ` +
          `replace it with --overwrite, or choose another --out`,
      );
    } else if (present.length) {
      for (const f of present) await Deno.remove(`${outDir}/${f}`, { recursive: true });
      log(`--overwrite: removed the previous run in ${outDir} (${present.join(", ")})`);
    }
  } catch (e) {
    await release();
    throw e;
  }
  return { release };
}
