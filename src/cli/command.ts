/**
 * The shape of one CLI sub-command. Each lives in its own file under `src/cli/`, parses its
 * own flags with `node:util` `parseArgs` and calls the library; none holds tensor math.
 *
 * @module
 */

/** One sub-command of `cli.ts`. */
export interface Command {
  /** The word after `cli.ts`, e.g. `train`. */
  name: string;
  /** One line for `cli.ts --help`. */
  summary: string;
  /** Full usage text for `cli.ts <name> --help`. */
  usage: string;
  /**
   * Runs the command.
   *
   * @param args the arguments after the command name
   * @returns the process exit code
   */
  run(args: string[]): Promise<number>;
}
