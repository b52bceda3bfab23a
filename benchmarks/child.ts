// The benchmarks that time each run in a fresh Node process (no warm caches, an honest peak RSS):
// the parent starts this same script with `--child …`, the child prints one `RESULT {json}` line.
import { spawnSync } from 'node:child_process';

/** `--flag 12,14,16` from the command line, or the default. */
export function listArg(flag: string, dflt: number[]): number[] {
  const i = process.argv.indexOf(flag);
  return i < 0 ? dflt : process.argv[i + 1]!.split(',').filter(Boolean).map(Number);
}

/** The child's answer to its parent. */
export function reportResult(result: object): void {
  console.log(`RESULT ${JSON.stringify(result)}`);
}

/** Runs `script --child ...args` in a new Node and returns its RESULT; `what` names it in a failure. */
export function runChild<T>(script: string, args: string[], what: string): T {
  const r = spawnSync(process.execPath, [...process.execArgv, script, '--child', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line) throw new Error(`${what} failed (status ${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(line.slice(7)) as T;
}
