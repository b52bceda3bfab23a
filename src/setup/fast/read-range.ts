// Point sections of ptau and zkey files read straight into one buffer: fastfile (under
// binfileutils) reads page by page through JavaScript, ~3 s of the main thread for the ~1 GB a
// 2^20 key's computation reads.
import { readSync } from 'node:fs';
import { ZkonnxError } from '../../errors.js';

/** `len` bytes of the open file `fd` from byte `pos`. */
export function readRange(fd: number, pos: number, len: number, file: string): Uint8Array {
  const b = new Uint8Array(len);
  for (let done = 0; done < len;) {
    const n = readSync(fd, b, done, len - done, pos + done);
    if (n <= 0) throw new ZkonnxError('SETUP_FAILED', `${file} ends at byte ${pos + done}, before byte ${pos + len}`, { file });
    done += n;
  }
  return b;
}
