/** One line per I/O failure, naming the path or URL and the fix, from the errors Deno throws. */
import assert from "node:assert/strict";
import { ioErrorLine, permissionHint } from "../src/errors.ts";
import { readBytes } from "../src/fsutil.ts";

const caught = async (f: () => Promise<unknown>) => await f().then(() => undefined, (e) => e);

Deno.test("ioErrorLine() names the path and the fix for real file-system errors", async () => {
  const dir = await Deno.makeTempDir({ prefix: "byel_err_" });
  await Deno.writeTextFile(`${dir}/file`, "x");
  const cases: [unknown, RegExp][] = [
    [
      await caught(() => Deno.readFile(`${dir}/missing`)),
      /\/missing: no such file or folder; check the path$/,
    ],
    [
      await caught(() => Deno.mkdir(`${dir}/file/sub`)),
      /\/file\/sub: part of this path is a file, not a folder; choose another path/,
    ],
    [
      await caught(() => Deno.mkdir(`${dir}/file`)),
      /\/file already exists and is not a folder; remove it or choose another path/,
    ],
    [await caught(() => Deno.readFile(dir)), / is a folder; pass a file$/],
  ];
  for (const [e, want] of cases) {
    const line = ioErrorLine(e);
    assert.ok(line && want.test(line) && !line.includes("\n"), `${e}: ${line}`);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("ioErrorLine() for a full disk, a read-only file system and the OS's own permission refusal", () => {
  // Deno's errors for these (a plain Error with the OS code, or PermissionDenied), on the
  // temporary name byel writes first: the line names the file meant.
  const tmp = "/data/run/checkpoint.tmp-4242-0a1b2c3d/weights.bin";
  const full = Object.assign(
    new Error(`No space left on device (os error 28): writefile '${tmp}'`),
    { code: "ENOSPC" },
  );
  const ro = Object.assign(new Error(`Read-only file system (os error 30): mkdir '${tmp}'`), {
    code: "EROFS",
  });
  const acces = new Deno.errors.PermissionDenied(
    `Permission denied (os error 13): writefile '/srv/out/x.json'`,
  );
  assert.equal(
    ioErrorLine(full),
    "no space left on the disk holding /data/run/checkpoint; free some space or write elsewhere, then " +
      "run again (files written before are intact; a training run continues with --resume)",
  );
  assert.equal(
    ioErrorLine(ro),
    "/data/run/checkpoint is on a read-only file system; write somewhere else (e.g. --out runs/NAME)",
  );
  assert.equal(permissionHint(acces), undefined); // not Deno's permission system
  assert.match(
    ioErrorLine(acces)!,
    /^\/srv\/out\/x\.json: permission denied by the system; choose a path you may use/,
  );
  assert.equal(ioErrorLine(new Error("something else")), undefined);
});

Deno.test("readBytes() turns a refused connection, an unknown host and an HTTP error into one line", async () => {
  // A port with nothing listening: bind one, then close it.
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  await assert.rejects(
    () => readBytes(`http://127.0.0.1:${port}/m/model.json`),
    new RegExp(
      `^UserError: cannot reach http://127\\.0\\.0\\.1:${port}/m/model\\.json: the connection was refused`,
    ),
  );
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("no", { status: 404 }),
  );
  const url = `http://127.0.0.1:${server.addr.port}/m/model.json`;
  await assert.rejects(
    () => readBytes(url),
    new RegExp(`cannot fetch ${url}: HTTP 404 Not Found; check the URL`),
  );
  await server.shutdown();
  const dns = new TypeError("fetch failed", {
    cause: new Error(
      "error sending request for url (http://no-such-host.invalid/m): client error (Connect): dns error: failed to lookup address information: Name or service not known",
    ),
  });
  assert.equal(
    ioErrorLine(dns),
    "cannot reach http://no-such-host.invalid/m: its host name does not resolve; check the URL and the network",
  );
});
