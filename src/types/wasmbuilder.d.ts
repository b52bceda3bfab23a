// Types for the part of wasmbuilder (the builder of ffjavascript's wasm, and of ours) that
// zkonnx calls; it ships no declarations.
declare module 'wasmbuilder' {
  /** Code is an array of wasm opcode bytes; every CodeBuilder method returns a fragment. */
  export type Code = number[];
  export class CodeBuilder {
    getLocal(name: string): Code;
    setLocal(name: string, v: Code): Code;
    teeLocal(name: string, v: Code): Code;
    i64_load32_u(addr: Code, offset?: number): Code;
    i64_load(addr: Code, offset?: number): Code;
    i64_store32(addr: Code, offset: number, v: Code): Code;
    i64_store(addr: Code, offset: number, v: Code): Code;
    i32_load(addr: Code, offset?: number): Code;
    drop(v: Code): Code;
    i32_store(addr: Code, offset: number, v: Code): Code;
    i32_store8(addr: Code, offset: number, v: Code): Code;
    call(fn: string, ...args: Code[]): Code;
    if(cond: Code, then: Code, otherwise?: Code): Code;
    block(code: Code): Code;
    loop(...code: Code[]): Code;
    br_if(depth: number, cond: Code): Code;
    br(depth: number): Code;
    ret(v: Code): Code;
    i64_const(v: number | bigint): Code;
    i32_const(v: number): Code;
    i64_add(a: Code, b: Code): Code;
    i64_sub(a: Code, b: Code): Code;
    i64_mul(a: Code, b: Code): Code;
    i64_and(a: Code, b: Code): Code;
    i64_or(a: Code, b: Code): Code;
    i64_shr_u(a: Code, b: Code): Code;
    i64_shr_s(a: Code, b: Code): Code;
    i64_shl(a: Code, b: Code): Code;
    i64_ge_s(a: Code, b: Code): Code;
    i64_gt_u(a: Code, b: Code): Code;
    i64_lt_u(a: Code, b: Code): Code;
    i64_eq(a: Code, b: Code): Code;
    i64_ne(a: Code, b: Code): Code;
    i64_xor(a: Code, b: Code): Code;
    i64_clz(a: Code): Code;
    i64_extend_i32_u(a: Code): Code;
    i32_wrap_i64(a: Code): Code;
    i32_add(a: Code, b: Code): Code;
    i32_sub(a: Code, b: Code): Code;
    i32_mul(a: Code, b: Code): Code;
    i32_eq(a: Code, b: Code): Code;
    i32_ne(a: Code, b: Code): Code;
    i32_gt_u(a: Code, b: Code): Code;
    i32_lt_u(a: Code, b: Code): Code;
    i32_lt_s(a: Code, b: Code): Code;
    i32_ge_u(a: Code, b: Code): Code;
    i32_and(a: Code, b: Code): Code;
    i32_or(a: Code, b: Code): Code;
    i32_shl(a: Code, b: Code): Code;
    i32_shr_u(a: Code, b: Code): Code;
    i32_shr_s(a: Code, b: Code): Code;
    i32_eqz(a: Code): Code;
  }
  export class FunctionBuilder {
    addParam(name: string, type: 'i32' | 'i64'): void;
    addLocal(name: string, type: 'i32' | 'i64', length?: number): void;
    setReturnType(type: 'i32' | 'i64'): void;
    getCodeBuilder(): CodeBuilder;
    addCode(...code: Code[]): void;
  }
  export class ModuleBuilder {
    modules: Record<string, Record<string, number>>;
    setMemory(pages: number, moduleName?: string, fieldName?: string): void;
    addFunction(name: string): FunctionBuilder;
    exportFunction(name: string, exportName?: string): void;
    addData(offset: number, bytes: Uint8Array | number[]): void;
    build(): Uint8Array;
  }
}
