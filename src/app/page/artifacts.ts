// Model artifacts in the page: streamed with progress (the server sends Content-Length) and kept
// in the browser's Cache Storage. A cached copy is revalidated with its ETag, so a zkey is
// downloaded again only when the build changed (the server answers 304 otherwise).

const CACHE = 'zkonnx-artifacts-v1';

export type ByteProgress = (loaded: number, total: number) => void;

export interface Fetched {
  bytes: Uint8Array;
  /** 'network' when downloaded, 'cache' when the browser's copy was current. */
  from: 'network' | 'cache';
  /** The server's ETag for these bytes, when it sent one: the same ETag, the same file. */
  etag?: string;
}

async function openCache(): Promise<Cache | undefined> {
  try {
    return typeof caches === 'undefined' ? undefined : await caches.open(CACHE);
  } catch {
    return undefined; // Cache Storage is refused in some contexts (private windows): just download
  }
}

export async function fetchArtifact(url: string, onProgress?: ByteProgress): Promise<Fetched> {
  const cache = await openCache();
  const cached = await cache?.match(url);
  const etag = cached?.headers.get('ETag');
  const res = await fetch(url, { headers: etag ? { 'If-None-Match': etag } : {}, cache: 'no-store' });
  if (res.status === 304 && cached) {
    const bytes = new Uint8Array(await cached.arrayBuffer());
    onProgress?.(bytes.byteLength, bytes.byteLength);
    return { bytes, from: 'cache', etag: etag ?? undefined };
  }
  if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status} ${await res.text().catch(() => '')}`);
  const total = Number(res.headers.get('Content-Length') ?? 0);
  const bytes = new Uint8Array(total || 0);
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (total && loaded + value.byteLength <= total) bytes.set(value, loaded);
    else chunks.push(value);
    loaded += value.byteLength;
    onProgress?.(loaded, total || loaded);
  }
  let out = bytes;
  if (!total || loaded !== total) {
    // no or wrong length: assemble what came
    out = new Uint8Array(loaded);
    let p = 0;
    if (total) { out.set(bytes.subarray(0, Math.min(total, loaded)), 0); p = Math.min(total, loaded); }
    for (const c of chunks) { out.set(c, p); p += c.byteLength; }
  }
  if (cache) {
    const headers = new Headers({ 'Content-Type': res.headers.get('Content-Type') ?? 'application/octet-stream' });
    if (res.headers.get('ETag')) headers.set('ETag', res.headers.get('ETag')!);
    await cache.put(url, new Response(out.slice(), { headers })).catch(() => {}); // a full quota only costs the next download
  }
  return { bytes: out, from: 'network', etag: res.headers.get('ETag') ?? undefined };
}

export async function fetchJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}
