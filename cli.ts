#!/usr/bin/env -S deno run -P
/**
 * The byel command line: `deno run -P cli.ts <command> [flags]`. It only parses, calls the
 * library and turns errors into one-line messages; see `deno run -P cli.ts --help`.
 *
 * @module
 */
import { COMMANDS } from "./src/cli/commands.ts";
import { ioErrorLine, permissionHint, UserError } from "./src/errors.ts";
import { VERSION } from "./src/version.ts";

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    const lines = [`byel ${VERSION}: BYEL facial emotion recognition on Deno + TensorFlow.js`, ""];
    lines.push(
      "usage: deno run -P cli.ts <command> [flags]   (--help after a command for its flags)",
    );
    lines.push("");
    for (const load of Object.values(COMMANDS)) {
      const c = await load();
      lines.push(`  ${c.name.padEnd(9)} ${c.summary}`);
    }
    console.log(lines.join("\n"));
    return name ? 0 : 2;
  }
  if (name === "--version") {
    console.log(VERSION);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(
      `error: unknown command "${name}"; expected one of: ${Object.keys(COMMANDS).join(", ")}`,
    );
    return 2;
  }
  const cmd = await load();
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(cmd.usage);
    return 0;
  }
  return await cmd.run(rest);
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (e) {
    const hint = permissionHint(e) ?? ioErrorLine(e);
    if (hint) console.error(`error: ${hint}`);
    else if (e instanceof UserError) console.error(`error: ${e.message}`);
    else if (
      e instanceof TypeError &&
      /parseArgs|ERR_PARSE_ARGS/.test(String((e as { code?: string }).code ?? e.message))
    ) {
      console.error(`error: ${e.message} (see --help)`);
    } else throw e;
    code = e instanceof UserError || hint ? 1 : 2;
  }
  Deno.exit(code);
}
