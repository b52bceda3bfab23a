// Where a .zkey or .wtns comes from: a path, or snarkjs's in-memory file `{ type: 'mem', data }`
// (src/split.ts keeps keys in memory and passes that form wherever a file name is expected).
import { readFile } from 'node:fs/promises';
import { ZkonnxError } from '../errors.js';

export type MemFile = { type: 'mem'; data: Uint8Array };
export type BinSource = string | MemFile;

/** The whole file and a name for messages. */
export async function loadBinSource(src: BinSource, kind: 'zkey' | 'wtns'): Promise<{ buf: Uint8Array; file: string }> {
  if (typeof src === 'string') {
    const buf = await readFile(src).catch((cause: unknown) => {
      throw new ZkonnxError('ARTIFACT_MISSING', `cannot read ${kind} file ${src}`, { file: src, cause });
    });
    return { buf: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), file: src };
  }
  if (src && typeof src === 'object' && src.type === 'mem' && src.data instanceof Uint8Array) return { buf: src.data, file: `<in-memory ${kind}>` };
  throw new ZkonnxError('BAD_ARGUMENT', `expected a ${kind} file path or { type: 'mem', data }, got ${typeof src}`);
}
