// Types for the part of wasmcurves and wasmbuilder (the builders of ffjavascript's wasm) that
// zkonnx calls; neither package ships declarations.
declare module 'wasmbuilder' {
  export class ModuleBuilder {
    modules: Record<string, Record<string, number>>;
    setMemory(pages: number): void;
    build(): Uint8Array;
  }
}
declare module 'wasmcurves' {
  export function buildBn128(module: import('wasmbuilder').ModuleBuilder, prefix?: string): string;
}
