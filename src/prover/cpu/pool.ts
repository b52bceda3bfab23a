// The CPU prover's worker threads: worker_threads in Node, Web Workers in a page, both running
// worker-body.ts's source (and setup-tasks.ts's) with the compiled wasm module posted to them. A
// worker holds a reference on the Node event loop only while it has work, so an idle pool never
// keeps a process alive; `releaseCpuPool` ends the threads. A thread that dies (out of memory,
// say) fails its task and every queued one with PROVER_FAILED, and the next proof starts a new
// pool.
import { ZkonnxError } from '../../errors.js';
import { msmModule, HEAP_START } from './wasm-module.js';
import { setupTasks } from './setup-tasks.js';
import { workerBody, type Task, type WindowTask } from './worker-body.js';

interface Port {
  post(msg: unknown, transfer?: ArrayBuffer[]): void;
  onReply(fn: (msg: Reply) => void): void;
  /** the thread ended or failed outside a task */
  onDeath(fn: (why: string) => void): void;
  ref(): void;
  unref(): void;
  terminate(): Promise<unknown> | void;
}

type Reply = { ok?: true; results?: Uint8Array[]; held?: number[]; error?: string };

const NONE = new Uint8Array(0);

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof (globalThis as { window?: unknown }).window === 'undefined';

// esbuild's keepNames (tsx, vitest) wraps inner functions in __name(): defined here for the copy
const PRELUDE = 'const __name = (f) => f;\n';

async function spawn(): Promise<Port> {
  if (isNode) {
    const { Worker } = await import('node:worker_threads');
    const src = `${PRELUDE}const { parentPort } = require('node:worker_threads');\nconst handle = (${workerBody.toString()})((m, t) => parentPort.postMessage(m, t), ${setupTasks.toString()});\nparentPort.on('message', handle);`;
    const w = new Worker(src, { eval: true });
    w.unref();
    return {
      post: (m, t) => w.postMessage(m, t),
      onReply: (fn) => w.on('message', fn),
      onDeath: (fn) => {
        w.on('error', (e) => fn(String(e?.message ?? e)));
        w.on('exit', (code) => fn(`exited with code ${code}`));
      },
      ref: () => w.ref(),
      unref: () => w.unref(),
      terminate: () => w.terminate(),
    };
  }
  const src = `${PRELUDE}const handle = (${workerBody.toString()})((m, t) => self.postMessage(m, t), ${setupTasks.toString()});\nself.onmessage = (e) => handle(e.data);`;
  const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
  const port: Port = {
    post: (m, t) => w.postMessage(m, t ?? []),
    onReply: (fn) => { w.onmessage = (e: MessageEvent) => fn(e.data as Reply); },
    onDeath: (fn) => { w.onerror = (e: ErrorEvent) => fn(e.message); },
    ref: () => {},
    unref: () => {},
    terminate: () => w.terminate(),
  };
  return port;
}

class Thread {
  private pending?: (r: Reply) => void;
  dead = false;
  /** The blocks of points the thread holds converted (worker-body.ts says which in each reply). */
  held = new Set<number>();
  constructor(private readonly port: Port, private readonly onIdle: () => void, onDeath: (why: string) => void) {
    port.onReply((r) => {
      const resolve = this.pending!;
      this.pending = undefined;
      if (r.held) this.held = new Set(r.held);
      port.unref();
      resolve(r);
      this.onIdle();
    });
    port.onDeath((why) => {
      if (this.dead) return;
      this.dead = true;
      this.pending?.({ error: `a prover thread ${why}` });
      this.pending = undefined;
      onDeath(why);
    });
  }
  get idle(): boolean {
    return !this.pending;
  }
  send(msg: unknown, transfer?: ArrayBuffer[]): Promise<Reply> {
    this.port.ref();
    return new Promise((resolve) => {
      this.pending = resolve;
      this.port.post(msg, transfer);
    });
  }
  terminate() {
    return this.port.terminate();
  }
}

interface Queued {
  task: Task;
  /** buffers the message moves to the thread instead of copying (see run) */
  transfer?: ArrayBuffer[];
  priority: number;
  seq: number;
  resolve(r: Reply): void;
}

/**
 * Worker threads with one task each at a time, fed from one queue: the highest priority first,
 * then a window of a block the thread holds converted (no conversion), then the oldest; a thread
 * with nothing queued converts a block ahead of its MSM (whenIdle). A thread takes its next task
 * when it is done with one, so threads slowed by other processes take fewer.
 */
export class CpuPool {
  private readonly threads: Thread[] = [];
  private queue: Queued[] = [];
  /** whenIdle's conversions, and the threads each has run on */
  private ahead: Array<{ task: WindowTask; ran: Set<Thread> }> = [];
  private seq = 0;
  private broken = false;
  private constructor() {}

  get concurrency(): number {
    return this.threads.length;
  }

  static async create(threads: number): Promise<CpuPool> {
    const pool = new CpuPool();
    const module = await msmModule();
    const ports = await Promise.all(Array.from({ length: threads }, () => spawn()));
    // a thread that is done takes its next task after the reply's continuations have run: the
    // task that a result unblocks (the quotient's next step, on the critical path) is queued by
    // then, and goes first, instead of waiting for a window that the thread took meanwhile
    for (const port of ports) pool.threads.push(new Thread(port, () => later(() => pool.dispatch()), () => pool.die()));
    await Promise.all(pool.threads.map((t) => t.send({ op: 'init', module, heapStart: HEAP_START }).then(check)));
    return pool;
  }

  /**
   * Runs a task; `priority`: tasks on the proof's critical path (the quotient) go first.
   * `transfer`: buffers of the task's arrays that the caller gives up, moved to the thread, not
   * copied (a message copies a buffer that is not shared: ~0.5 s for the 113 MB of a 2^20 join,
   * on the critical path).
   */
  async run(task: Task, priority = 0, transfer?: ArrayBuffer[]): Promise<Uint8Array[]> {
    const reply = await new Promise<Reply>((resolve) => {
      if (this.broken) return resolve({ error: 'a prover thread died: the pool was ended' });
      this.queue.push({ task, transfer, priority, seq: this.seq++, resolve });
      this.dispatch();
    });
    return check(reply).results!;
  }

  /**
   * A block's conversion (a window task with no windows) for every thread to run when it has
   * nothing else to do, until dropIdle: H's points converted while the quotient's last steps
   * and the MSM's preparation keep other threads busy, instead of after (~80 ns a point, at
   * 2^20 about 0.08 s on each thread at the start of H's MSM). A thread runs it at most once.
   */
  whenIdle(task: WindowTask): void {
    if (task.windows.length) throw new Error('whenIdle takes conversions only (no windows)');
    this.ahead.push({ task, ran: new Set() });
    this.dispatch();
  }

  /** Drops whenIdle's conversions of these blocks (their MSM has started: its windows convert what is left). */
  dropIdle(ids: number[]): void {
    this.ahead = this.ahead.filter((x) => !ids.includes(x.task.id));
  }

  /** A thread died: fail what is queued, end the others, and let the next proof start a new pool. */
  private die(): void {
    if (this.broken) return;
    this.broken = true;
    for (const q of this.queue.splice(0)) q.resolve({ error: 'a prover thread died while this task waited' });
    if (poolInstance === this) {
      pool = undefined;
      poolInstance = undefined;
    }
    void this.terminate().catch(() => {});
  }

  private dispatch(): void {
    for (const t of this.threads) {
      if (t.dead || !t.idle) continue;
      if (this.queue.length === 0) {
        const x = this.ahead.find((y) => !y.ran.has(t) && !t.held.has(y.task.id));
        if (x) {
          x.ran.add(t);
          void t.send(x.task).then(() => {}); // a failure shows in the MSM's own tasks
        }
        continue;
      }
      // the highest priority, then a window of a block this thread holds, then the oldest
      const mine = (q: Queued) => (q.task.op === 'windows' && t.held.has(q.task.id) ? 1 : 0);
      let best = 0;
      for (let i = 1; i < this.queue.length; i++) {
        const q = this.queue[i]!;
        const b = this.queue[best]!;
        if (q.priority !== b.priority ? q.priority > b.priority : mine(q) !== mine(b) ? mine(q) > mine(b) : q.seq < b.seq) best = i;
      }
      const [job] = this.queue.splice(best, 1);
      let task = job!.task;
      if (task.op === 'windows') {
        // a thread that has the block needs none of its bytes (without SharedArrayBuffer, in a
        // page that is not cross-origin isolated, a message would copy them)
        if (t.held.has(task.id)) task = { ...task, bases: NONE };
      }
      void t.send(task, job!.transfer).then(job!.resolve);
    }
  }

  async terminate(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.terminate()));
  }
}

/** Runs `f` after the pending promise continuations (a macrotask). */
export const later: (f: () => void) => void = typeof setImmediate === 'function' ? (f) => void setImmediate(f) : (f) => void setTimeout(f, 0);

function check(r: Reply): Reply {
  if (r.error) {
    const first = r.error.split('\n')[0]!;
    throw new ZkonnxError('PROVER_FAILED', `the wasm prover failed: ${first}`, {
      hint: /memory|allocation/i.test(first) ? 'a prover thread holds its share of the key in a WebAssembly memory of at most 4 GiB: prove the model in parts (compile --split)' : 'run again; report it with the build folder if it repeats',
      detail: r.error,
    });
  }
  return r;
}

function defaultThreads(): number {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return Math.max(1, nav?.hardwareConcurrency ?? 1);
}

let pool: Promise<CpuPool> | undefined;
let poolInstance: CpuPool | undefined;

/** The process's pool (one thread per core), started on first use. */
export function cpuPool(): Promise<CpuPool> {
  pool ??= (async () => {
    let n = defaultThreads();
    if (isNode) n = (await import('node:os')).availableParallelism();
    poolInstance = await CpuPool.create(n);
    return poolInstance;
  })();
  return pool;
}

/**
 * Bytes to post to a thread: a view into a larger buffer would be cloned whole, so one that is
 * not its buffer's all is copied; a shared buffer's view is posted as it is (shared, not cloned).
 */
export const ownBytes = (x: Uint8Array): Uint8Array =>
  (typeof SharedArrayBuffer === 'function' && x.buffer instanceof SharedArrayBuffer) || (x.byteOffset === 0 && x.byteLength === x.buffer.byteLength) ? x : x.slice();

/**
 * Shared buffers given back (releaseShared) for the next sharedBytes they fit. A fresh one pays a
 * page fault for each of its pages on first touch, and in a VM those can be slow: a 2^20 proof's
 * MSMs copy ~180 MB of points and digits into fresh buffers, which took 0.05 s in one proof and
 * 2 s in the next (the same process, on the main thread, the critical path) on this machine.
 */
const spare: SharedArrayBuffer[] = [];
/** The buffers sharedBytes made: only those are taken back (a key's shared sections never are). */
const made = new WeakSet<SharedArrayBuffer>();
/** Bytes of spare buffers kept at most (the oldest go first). */
const SPARE_BYTES = 512 * 2 ** 20;

/**
 * An array in a SharedArrayBuffer where there is one (posted without a copy), else a plain one;
 * zeroed unless `zero` is false (a caller that writes every byte: zeroing a reused 2^20 proof's
 * buffers took 0.24 s of the main thread).
 */
export function sharedBytes(bytes: number, zero = true): Uint8Array {
  if (typeof SharedArrayBuffer !== 'function') return new Uint8Array(bytes);
  // the smallest spare that holds it and is at most twice its size
  let best = -1;
  for (let i = 0; i < spare.length; i++) {
    const b = spare[i]!.byteLength;
    if (b >= bytes && b <= 2 * bytes && (best < 0 || b < spare[best]!.byteLength)) best = i;
  }
  if (best < 0) {
    const b = new SharedArrayBuffer(bytes);
    made.add(b);
    return new Uint8Array(b);
  }
  const out = new Uint8Array(spare.splice(best, 1)[0]!, 0, bytes);
  return zero ? out.fill(0) : out;
}

/**
 * Gives the buffers of arrays from sharedBytes back for reuse, once nothing reads or writes them
 * any more (their tasks have all replied): the caller must drop its own references too. Other
 * arrays are left alone.
 */
export function releaseShared(...arrays: Uint8Array[]): void {
  for (const a of arrays) {
    const b = a.buffer;
    if (typeof SharedArrayBuffer !== 'function' || !(b instanceof SharedArrayBuffer) || !made.has(b) || spare.includes(b)) continue;
    spare.push(b);
  }
  let total = spare.reduce((t, b) => t + b.byteLength, 0);
  while (total > SPARE_BYTES) total -= spare.shift()!.byteLength;
}

/** The pool if it is started and alive: lets an MSM post its first tasks before its caller goes on. */
export function cpuPoolNow(): CpuPool | undefined {
  return poolInstance;
}

export async function releaseCpuPool(): Promise<void> {
  const p = pool;
  pool = undefined;
  poolInstance = undefined;
  if (p) await (await p).terminate();
}
