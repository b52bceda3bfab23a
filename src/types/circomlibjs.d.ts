// Types for the part of circomlibjs that zkonnx calls (circomlibjs ships no declarations).
declare module 'circomlibjs' {
  export interface PoseidonField {
    toObject(x: Uint8Array): bigint;
  }
  export interface Poseidon {
    (inputs: readonly bigint[]): Uint8Array;
    F: PoseidonField;
  }
  export function buildPoseidon(): Promise<Poseidon>;
}
