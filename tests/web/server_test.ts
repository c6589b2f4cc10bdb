/**
 * The web page in a real browser: the server starts, headless Chromium opens `/?sample`, the
 * page classifies the bundled sample with byel's own code and writes the result, which must
 * equal `predict --json` on the same image. Skipped, with a notice, where Chromium is missing.
 */
import assert from "node:assert/strict";
import { serveWeb } from "../../src/web/server.ts";
import { SHIPPED_MODEL } from "../../src/model/io.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;
const SAMPLE = new URL("../../web/sample.png", import.meta.url).pathname;

async function chromium(): Promise<string | undefined> {
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    const ok = await new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "piped" })
      .output().then((o) => o.success ? new TextDecoder().decode(o.stdout).trim() : undefined);
    if (ok) return ok;
  }
  return undefined;
}

const browser = await chromium();
if (!browser) {
  console.log("notice: no Chromium here (apt-get install chromium): the page test is skipped");
}

Deno.test({
  name: "the page classifies the sample in headless Chromium, as predict does (within 1e-3)",
  ignore: !browser,
  async fn() {
    const server = await serveWeb({ port: 0, log: () => {} });
    try {
      // Chromium's virtual time runs on while the page waits for its WASM to compile and its
      // worker to start, so on a loaded machine a dump can come back "loading": try again.
      let dom = "", m: RegExpExecArray | null = null;
      for (let attempt = 0; attempt < 4; attempt++) {
        const page = await new Deno.Command(browser!, {
          args: [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=600000",
            "--dump-dom",
            `${server.url}?sample`,
          ],
          stdout: "piped",
          stderr: "null",
        }).output();
        dom = new TextDecoder().decode(page.stdout);
        m = /<pre id="result" data-state="(\w+)">([\s\S]*?)<\/pre>/.exec(dom);
        if (m?.[1] !== "loading") break;
      }
      assert.ok(m, dom.slice(0, 2000));
      assert.equal(m[1], "done", m[2]);
      const inBrowser = JSON.parse(m[2]);
      assert.match(dom, /<span id="backend">(webgpu|wasm|cpu)/);

      const cli = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", CLI, "predict", "--model", SHIPPED_MODEL, "--json", SAMPLE],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(cli.success, new TextDecoder().decode(cli.stderr));
      const [row] = JSON.parse(new TextDecoder().decode(cli.stdout).trim().split("\n").pop()!);
      assert.equal(inBrowser.length, row.faces.length);
      inBrowser.forEach(
        (f: { class: string; probabilities: Record<string, number> }, i: number) => {
          assert.equal(f.class, row.faces[i].class);
          for (
            const [e, p] of Object.entries(row.faces[i].probabilities as Record<string, number>)
          ) {
            assert.ok(
              Math.abs(f.probabilities[e] - p) < 1e-3,
              `${e}: browser ${f.probabilities[e]}, predict ${p}`,
            );
          }
        },
      );
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test("serveWeb() on a port in use: one line naming the port and --port", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    await assert.rejects(
      serveWeb({ port, log: () => {} }),
      (e: Error) => {
        assert.equal(e.name, "UserError");
        assert.equal(e.message, `port ${port} on 127.0.0.1 is in use; pass another --port`);
        return true;
      },
    );
  } finally {
    taken.close();
  }
});
