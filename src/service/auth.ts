// The API's guards: bearer API keys, per-key rate limits, and the rules for when the API may run
// without keys. Keys come from a file (--api-keys: one key per line, or JSON) and from the
// environment (ZKONNX_API_KEYS, comma-separated). The API keeps only SHA-256 hashes of them and
// compares a presented key's hash with every configured hash in constant time (timingSafeEqual).
import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { ZkonnxError } from '../errors.js';
import { rateKey } from './common.js';

/** N requests per period. */
export interface Rate {
  count: number;
  periodMs: number;
  /** As written: '60/min'. */
  text: string;
}

export interface ApiKey {
  /** Stable and not secret: the name given in the keys file, or `key-` and the hash's first 12 hex digits. */
  name: string;
  /** Who owns a proof: the first 16 hex digits of the key's SHA-256 (stored with the job; never the key). */
  owner: string;
  /** The key's own rate (its entry in a JSON keys file), or undefined for --rate. */
  rate?: Rate;
  hash: Buffer;
}

/** The shortest key accepted: guessable keys are refused, not just discouraged. */
export const MIN_KEY_LENGTH = 16;

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

const PERIODS: Record<string, number> = { s: 1000, sec: 1000, second: 1000, m: 60_000, min: 60_000, minute: 60_000, h: 3_600_000, hour: 3_600_000, d: 86_400_000, day: 86_400_000 };

/** '60/min', '5/s', '1000/hour' → a Rate; 'off' (or 'none', '0') → undefined: no limit. */
export function parseRate(text: string, what = '--rate'): Rate | undefined {
  const t = text.trim();
  if (/^(off|none|0)$/i.test(t)) return undefined;
  const m = /^(\d+)\s*\/\s*(\d*)\s*([a-z]+)$/i.exec(t);
  const unit = m && PERIODS[m[3]!.toLowerCase()];
  const count = m ? Number(m[1]) : NaN;
  const times = m && m[2] ? Number(m[2]) : 1;
  if (!m || !unit || !Number.isSafeInteger(count) || count < 1 || !(times >= 1)) {
    throw new ZkonnxError('BAD_ARGUMENT', `${what} '${text}' is not a rate`, { hint: 'write N/s, N/min, N/hour or N/day (e.g. 60/min), or off' });
  }
  return { count, periodMs: unit * times, text: t };
}

/** '24h', '30m', '90s', '7d' or plain seconds → seconds (≥ 1). */
export function parseDuration(text: string, what = '--result-ttl'): number {
  const m = /^\s*(\d+)\s*(s|sec|m|min|h|hour|d|day)?\s*$/i.exec(text);
  const n = m ? Number(m[1]) * ({ s: 1, sec: 1, m: 60, min: 60, h: 3600, hour: 3600, d: 86400, day: 86400 }[(m[2] ?? 's').toLowerCase()] ?? NaN) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new ZkonnxError('BAD_ARGUMENT', `${what} '${text}' is not a duration`, { hint: 'write seconds or a number with s, m, h or d (e.g. 24h)' });
  }
  return n;
}

function makeKey(key: string, where: string, name?: string, rate?: Rate): ApiKey {
  if (key.length < MIN_KEY_LENGTH || /\s|,/.test(key)) {
    throw new ZkonnxError('BAD_ARGUMENT', `${where}: an API key must be at least ${MIN_KEY_LENGTH} characters, with no spaces or commas`, {
      hint: 'make keys with `openssl rand -hex 32`',
    });
  }
  const hash = sha256(key);
  const hex = hash.toString('hex');
  return { name: name ?? `key-${hex.slice(0, 12)}`, owner: hex.slice(0, 16), rate, hash };
}

/**
 * Keys from a file: JSON (an array of keys, or of {key, name?, rate?}, or {"keys": [...]}) or
 * text (one key per line; blank lines and lines starting with # are skipped).
 */
export function parseKeysFile(text: string, file: string): ApiKey[] {
  const t = text.trim();
  if (t.startsWith('[') || t.startsWith('{')) {
    let j: unknown;
    try {
      j = JSON.parse(t);
    } catch (e) {
      throw new ZkonnxError('BAD_ARGUMENT', `--api-keys ${file} is not valid JSON: ${(e as Error).message}`);
    }
    const list = Array.isArray(j) ? j : (j as { keys?: unknown }).keys;
    if (!Array.isArray(list)) throw new ZkonnxError('BAD_ARGUMENT', `--api-keys ${file}: expected a list of keys, or {"keys": [...]}`);
    return list.map((e, i) => {
      const where = `--api-keys ${file} [${i}]`;
      if (typeof e === 'string') return makeKey(e, where);
      const o = e as { key?: unknown; name?: unknown; rate?: unknown } | null;
      if (!o || typeof o.key !== 'string') throw new ZkonnxError('BAD_ARGUMENT', `${where}: expected a key (a string) or {"key": "...", "name": "...", "rate": "60/min"}`);
      if (o.name !== undefined && typeof o.name !== 'string') throw new ZkonnxError('BAD_ARGUMENT', `${where}: "name" must be a string`);
      if (o.rate !== undefined && typeof o.rate !== 'string') throw new ZkonnxError('BAD_ARGUMENT', `${where}: "rate" must be a string such as "60/min"`);
      // an entry's rate 'off' means no limit for that key: kept apart from "no rate of its own"
      const rate = o.rate === undefined ? undefined : parseRate(o.rate, `${where} rate`) ?? { count: Infinity, periodMs: 60_000, text: 'off' };
      return makeKey(o.key, where, o.name as string | undefined, rate);
    });
  }
  return t.split(/\r?\n/).map((l) => l.trim()).flatMap((l, i) => (l && !l.startsWith('#') ? [makeKey(l, `--api-keys ${file} line ${i + 1}`)] : []));
}

/** The configured keys: the file's, then ZKONNX_API_KEYS's; an empty list means the API runs without keys. */
export function loadApiKeys(opts: { file?: string; env?: string }): ApiKey[] {
  const keys: ApiKey[] = [];
  if (opts.file !== undefined) {
    if (!existsSync(opts.file)) throw new ZkonnxError('BAD_ARGUMENT', `--api-keys ${opts.file} does not exist`, { hint: 'one key per line, or JSON: [{"key": "...", "name": "...", "rate": "60/min"}]' });
    const fromFile = parseKeysFile(readFileSync(opts.file, 'utf8'), opts.file);
    if (!fromFile.length) throw new ZkonnxError('BAD_ARGUMENT', `--api-keys ${opts.file} holds no key`);
    keys.push(...fromFile);
  }
  for (const k of (opts.env ?? '').split(',').map((s) => s.trim()).filter(Boolean)) keys.push(makeKey(k, 'ZKONNX_API_KEYS'));
  const seen = new Set<string>();
  return keys.filter((k) => (seen.has(k.owner) ? false : (seen.add(k.owner), true)));
}

/** Loopback addresses: the only ones an API without keys listens on. */
export function isLoopback(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
}

/** Refuses, before anything starts, an API that would be reachable from other machines without keys. */
export function checkExposure(host: string, keys: ApiKey[]): void {
  if (!keys.length && !isLoopback(host)) {
    throw new ZkonnxError('BAD_ARGUMENT', `refusing to listen on ${host} without API keys: anyone who can reach it could read every proof and submit work`, {
      hint: 'pass --api-keys FILE or set ZKONNX_API_KEYS=key1,key2 (make keys with `openssl rand -hex 32`), or listen on 127.0.0.1',
    });
  }
}

/** Finds the key of an `Authorization: Bearer <key>` header, comparing hashes in constant time. */
export class Authenticator {
  constructor(readonly keys: ApiKey[]) {}

  get enabled(): boolean {
    return this.keys.length > 0;
  }

  check(header: string | undefined): ApiKey | undefined {
    const m = /^Bearer +(\S+) *$/i.exec(header ?? '');
    if (!m) return undefined;
    const h = sha256(m[1]!);
    let found: ApiKey | undefined;
    // every key is compared, whatever matched, so the time taken says nothing about which one
    for (const k of this.keys) if (timingSafeEqual(h, k.hash) && !found) found = k;
    return found;
  }
}

// GCRA (a token bucket in one number): the key holds the "theoretical arrival time" of the next
// request; a request is allowed when it would not run more than one period ahead of now. Allows
// bursts of up to N, then one request every period/N. The key expires when the bucket is full again.
const GCRA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local nextTat = math.ceil(tat + interval)
if nextTat - now > period then
  return math.ceil(nextTat - period - now)
end
redis.call('SET', KEYS[1], nextTat, 'PX', math.max(1, math.ceil(nextTat - now)))
return 0
`;

/** Per-key rate limits kept in Redis, so that several API processes share them. */
export class RateLimiter {
  constructor(private readonly redis: Redis) {}

  /** 0 when allowed, else the milliseconds until the request would be. */
  async take(who: string, rate: Rate): Promise<number> {
    if (!Number.isFinite(rate.count)) return 0;
    const interval = rate.periodMs / rate.count;
    return Number(await this.redis.eval(GCRA, 1, rateKey(who), String(interval), String(rate.periodMs)));
  }
}
