// Writing folders so that a reader never sees half of one, and two writers never share one:
// a folder is staged beside its final name (<name>.tmp-<pid>) and renamed into place; a lock file
// (<name>.lock, holding the writer's pid) keeps a second writer out; leftovers of interrupted
// runs (a staging folder or lock whose process is gone) are removed by the next run.
import { closeSync, existsSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ZkonnxError } from './errors.js';

/** Whether a process with this pid is running (on this machine). */
export function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes siblings of `path` named <name>.tmp-<pid>… or <name>.old-<pid> whose process is gone. */
export function removeStale(path: string): void {
  const dir = dirname(path);
  if (!existsSync(dir)) return;
  const re = new RegExp(`^${basename(path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(?:tmp|old)-(\\d+)`);
  for (const f of readdirSync(dir)) {
    const m = re.exec(f);
    if (m && !alive(Number(m[1]))) rmSync(join(dir, f), { recursive: true, force: true });
  }
}

/** Takes <path>.lock for this process; throws BUSY while another live process holds it. Returns the release. */
export function lock(path: string, what: string): () => void {
  const file = `${path}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (alive(pid) && pid !== process.pid) {
        throw new ZkonnxError('BUSY', `${what} is being written by another zkonnx process (pid ${pid})`, { file, hint: 'wait for it to finish, or use another --name' });
      }
      rmSync(file, { force: true }); // left by a run that was interrupted
    }
  }
  throw new ZkonnxError('BUSY', `could not lock ${file}`, { file });
}

/** Replaces `path` with the folder `staged` in two renames; the old folder is removed after. */
export function swapInto(staged: string, path: string): void {
  const old = `${path}.old-${process.pid}`;
  if (existsSync(path)) renameSync(path, old);
  renameSync(staged, path);
  rmSync(old, { recursive: true, force: true });
}
