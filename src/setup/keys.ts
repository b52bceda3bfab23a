// The keys a build proves with are the keys setup made: setup (and each ceremony contribution)
// records their sha256 in keys.json beside them, and every prover checks them, so a damaged or
// swapped circuit_final.zkey fails with a named error instead of an invalid proof. `prove` checks
// the verification key before each proof and hashes the proving key only when a proof fails (the
// prover throws, or the proof does not verify): a proof that verifies with the recorded
// verification key is one whatever the bytes of the proving key, and hashing it (a real model's:
// 457 MB, 0.5 s of the main thread) every time would slow every proof.
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ZkonnxError } from '../errors.js';

interface KeyHashes { zkeySha256: string; vkeySha256: string }

const keysFile = (zkeyPath: string): string => join(dirname(zkeyPath), 'keys.json');

/** sha256 of a file, read in 4 MiB pieces (a zkey can be gigabytes). */
export function sha256File(path: string): string {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 22);
  const fd = openSync(path, 'r');
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/** Records the hashes of the key pair setup (or a contribution) just wrote. */
export function recordKeys(zkeyPath: string, vkeyPath: string): void {
  const k: KeyHashes = { zkeySha256: sha256File(zkeyPath), vkeySha256: sha256File(vkeyPath) };
  writeFileSync(keysFile(zkeyPath), JSON.stringify(k, null, 1));
}

/**
 * Throws KEY_CHANGED when the proving key (its bytes, when already read) or the verification key
 * differ from what setup recorded. Builds set up before keys.json existed are not checked here;
 * their proofs are still verified before they are written.
 */
export function checkKeys(zkeyPath: string, vkeyPath: string, zkeyBytes?: Uint8Array): void {
  const want = recorded(zkeyPath);
  if (!want) return;
  compare(zkeyPath, vkeyPath, want, zkeyBytes ? createHash('sha256').update(zkeyBytes).digest('hex') : sha256File(zkeyPath));
}

/**
 * checkKeys without blocking: the key is hashed as it streams in (beside createProver's own read
 * of it; `prove` runs it when a proof fails, to name a changed key).
 */
export async function checkKeysAsync(zkeyPath: string, vkeyPath: string): Promise<void> {
  const want = recorded(zkeyPath);
  if (!want) return;
  const h = createHash('sha256');
  for await (const chunk of createReadStream(zkeyPath, { highWaterMark: 1 << 22 })) h.update(chunk as Buffer);
  compare(zkeyPath, vkeyPath, want, h.digest('hex'));
}

/** checkKeys's verification-key half (a small file): KEY_CHANGED where it is not the one setup recorded. */
export function checkVkey(zkeyPath: string, vkeyPath: string): void {
  const want = recorded(zkeyPath);
  if (want) compare(zkeyPath, vkeyPath, want);
}

function recorded(zkeyPath: string): KeyHashes | undefined {
  const file = keysFile(zkeyPath);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as KeyHashes) : undefined;
}

/** KEY_CHANGED where a hash differs from the recorded one: the verification key's, and the proving key's where given. */
function compare(zkeyPath: string, vkeyPath: string, want: KeyHashes, zkeySha256?: string): void {
  const file = keysFile(zkeyPath);
  const got: KeyHashes = { zkeySha256: zkeySha256 ?? want.zkeySha256, vkeySha256: existsSync(vkeyPath) ? sha256File(vkeyPath) : '' };
  for (const [k, path] of [['zkeySha256', zkeyPath], ['vkeySha256', vkeyPath]] as const) {
    if (got[k] !== want[k]) {
      throw new ZkonnxError('KEY_CHANGED', `${path} is not the file setup wrote (sha256 ${got[k].slice(0, 16)}…, setup recorded ${want[k].slice(0, 16)}… in ${file})`, {
        file: path, hint: 'the key was damaged or replaced: run `zkonnx setup` again (or restore the file)',
      });
    }
  }
}
