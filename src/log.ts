/** Library code never prints: it reports through these optional callbacks. */
export interface Progress {
  /** A step starts; `total` is known for steps that report `tick`. */
  step?(name: string, total?: number): void;
  tick?(done: number): void;
  /** Informational line (the CLI prints it unless --json). */
  info?(message: string): void;
  warn?(message: string): void;
}

export const silent: Progress = {};

/** Times an async step and reports its start through `progress`. */
export async function timed<T>(progress: Progress | undefined, name: string, fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  progress?.step?.(name);
  const t0 = performance.now();
  const value = await fn();
  return { value, seconds: (performance.now() - t0) / 1000 };
}
