// The CLI's progress display: a spinner with elapsed time on a terminal, one line per step
// elsewhere, nothing but warnings with --json. Library code only calls the Progress callbacks.
import type { Progress } from '../log.js';

export function cliProgress(opts: { json: boolean }): Progress & { done(): void } {
  const err = process.stderr;
  const tty = err.isTTY === true && !opts.json;
  let current: string | undefined;
  let total: number | undefined;
  let done = 0;
  let started = 0;
  let timer: NodeJS.Timeout | undefined;
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let f = 0;
  const render = () => {
    if (!current) return;
    const s = ((performance.now() - started) / 1000).toFixed(1);
    const pct = total ? ` ${Math.min(100, Math.floor((100 * done) / total))}%` : '';
    err.write(`\r\x1b[2K${frames[f++ % frames.length]} ${current}${pct} ${s}s`);
  };
  const finish = () => {
    if (!current) return;
    if (tty) {
      const s = ((performance.now() - started) / 1000).toFixed(1);
      err.write(`\r\x1b[2K✓ ${current} ${s}s\n`);
    }
    current = undefined;
  };
  return {
    step(name, steps) {
      finish();
      current = name;
      total = steps;
      done = 0;
      started = performance.now();
      if (tty) {
        timer ??= setInterval(render, 100);
        timer.unref();
        render();
      } else if (!opts.json) {
        err.write(`- ${name}\n`);
      }
    },
    tick(n) {
      done = n;
    },
    info(message) {
      if (opts.json) return;
      if (tty && current) err.write('\r\x1b[2K');
      err.write(`${message}\n`);
    },
    warn(message) {
      if (tty && current) err.write('\r\x1b[2K');
      err.write(`warning: ${message}\n`);
    },
    done() {
      finish();
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
