#!/usr/bin/env node
// The `zkonnx` executable. V8 caps its heap at about 4 GiB whatever the machine has; a large
// model's compile (or setup, or prove) would stop there. The heavy verbs therefore run in a Node
// whose heap is sized to the machine (¾ of its memory); the others start directly.
import { spawnSync } from 'node:child_process';
import { totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';

const HEAVY = new Set(['compile', 'setup', 'prove', 'demo', 'worker']);
const wantMiB = Math.floor((totalmem() * 0.75) / 2 ** 20);
const haveMiB = getHeapStatistics().heap_size_limit / 2 ** 20;
if (HEAVY.has(process.argv[2] ?? '') && !process.env.ZKONNX_HEAP_SIZED && haveMiB < 0.9 * wantMiB) {
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const r = spawnSync(process.execPath, [`--max-old-space-size=${wantMiB}`, ...process.execArgv, main, ...process.argv.slice(2)], {
    stdio: 'inherit', env: { ...process.env, ZKONNX_HEAP_SIZED: '1' },
  });
  process.exit(r.status ?? 1);
} else {
  await import('./main.js');
}
