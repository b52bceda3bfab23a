// The CPU MSM's worker threads: worker_threads in Node, Web Workers in a page, both running
// worker-body.ts's source with the compiled wasm module posted to them. A worker holds a
// reference on the Node event loop only while it has work, so an idle pool never keeps a
// process alive; `releaseCpuPool` ends the threads.
import { msmModule, HEAP_START } from './wasm-module.js';
import { workerBody, type WindowTask } from './worker-body.js';

interface Port {
  post(msg: unknown): void;
  onReply(fn: (msg: Reply) => void): void;
  ref(): void;
  unref(): void;
  terminate(): Promise<unknown> | void;
}

type Reply = { ok?: true; results?: Uint8Array[]; error?: string };

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof (globalThis as { window?: unknown }).window === 'undefined';

// esbuild's keepNames (tsx, vitest) wraps inner functions in __name(): defined here for the copy
const PRELUDE = 'const __name = (f) => f;\n';

async function spawn(): Promise<Port> {
  if (isNode) {
    const { Worker } = await import('node:worker_threads');
    const src = `${PRELUDE}const { parentPort } = require('node:worker_threads');\nconst handle = (${workerBody.toString()})((m) => parentPort.postMessage(m));\nparentPort.on('message', handle);`;
    const w = new Worker(src, { eval: true });
    w.unref();
    return {
      post: (m) => w.postMessage(m),
      onReply: (fn) => w.on('message', fn),
      ref: () => w.ref(),
      unref: () => w.unref(),
      terminate: () => w.terminate(),
    };
  }
  const src = `${PRELUDE}const handle = (${workerBody.toString()})((m) => self.postMessage(m));\nself.onmessage = (e) => handle(e.data);`;
  const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
  const port: Port = {
    post: (m) => w.postMessage(m),
    onReply: (fn) => { w.onmessage = (e: MessageEvent) => fn(e.data as Reply); },
    ref: () => {},
    unref: () => {},
    terminate: () => w.terminate(),
  };
  return port;
}

class Thread {
  private queue: Array<{ resolve(r: Reply): void }> = [];
  constructor(private readonly port: Port) {
    port.onReply((r) => {
      const job = this.queue.shift()!;
      if (this.queue.length === 0) port.unref();
      job.resolve(r);
    });
  }
  /** Work queued on this thread, in tasks. */
  get load(): number {
    return this.queue.length;
  }
  send(msg: unknown): Promise<Reply> {
    if (this.queue.length === 0) this.port.ref();
    return new Promise((resolve) => {
      this.queue.push({ resolve });
      this.port.post(msg);
    });
  }
  terminate() {
    return this.port.terminate();
  }
}

export class CpuPool {
  private next = 0;
  private constructor(private readonly threads: Thread[]) {}

  get concurrency(): number {
    return this.threads.length;
  }

  static async create(threads: number): Promise<CpuPool> {
    const module = await msmModule();
    const ts = await Promise.all(Array.from({ length: threads }, async () => new Thread(await spawn())));
    await Promise.all(ts.map((t) => t.send({ op: 'init', module, heapStart: HEAP_START }).then(check)));
    return new CpuPool(ts);
  }

  /** Runs a task on the next thread in turn (round robin across calls, so MSMs interleave). */
  async run(task: WindowTask): Promise<Uint8Array[]> {
    const t = this.threads[this.next++ % this.threads.length]!;
    return check(await t.send(task)).results!;
  }

  async terminate(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.terminate()));
  }
}

function check(r: Reply): Reply {
  if (r.error) throw new Error(`CPU MSM worker failed: ${r.error}`);
  return r;
}

function defaultThreads(): number {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return Math.max(1, nav?.hardwareConcurrency ?? 1);
}

let pool: Promise<CpuPool> | undefined;

/** The process's pool (one thread per core), started on first use. */
export function cpuPool(): Promise<CpuPool> {
  pool ??= (async () => {
    let n = defaultThreads();
    if (isNode) n = (await import('node:os')).availableParallelism();
    return CpuPool.create(n);
  })();
  return pool;
}

export async function releaseCpuPool(): Promise<void> {
  const p = pool;
  pool = undefined;
  if (p) await (await p).terminate();
}
