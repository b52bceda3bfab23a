// Types for the parts of snarkjs 0.7 that zkonnx calls (snarkjs ships no declarations).
declare module 'snarkjs' {
  export interface Groth16Proof {
    pi_a: string[];
    pi_b: string[][];
    pi_c: string[];
    protocol: string;
    curve: string;
  }
  export interface VerificationKey {
    protocol: string;
    curve: string;
    nPublic: number;
    [key: string]: unknown;
  }
  type Logger = { debug(m: string): void; info(m: string): void; warn(m: string): void; error(m: string): void } | undefined;
  type Entropy = string;
  export const curves: { getCurveFromName(name: string): Promise<{ terminate(): Promise<void> }> };
  export const powersOfTau: {
    newAccumulator(curve: unknown, power: number, fileName: string, logger?: Logger): Promise<unknown>;
    /** the response hash */
    contribute(oldFile: string, newFile: string, name: string, entropy: Entropy, logger?: Logger): Promise<Uint8Array>;
    beacon(oldFile: string, newFile: string, name: string, beaconHash: string, numIterationsExp: number, logger?: Logger): Promise<unknown>;
    preparePhase2(oldFile: string, newFile: string, logger?: Logger): Promise<unknown>;
    /** writes `${template}01.ptau` … up to the file's power − 1 */
    truncate(file: string, template: string, logger?: Logger): Promise<boolean>;
    verify(file: string, logger?: Logger): Promise<boolean>;
  };
  export const zKey: {
    newZKey(r1cs: string, ptau: string, zkey: string, logger?: Logger): Promise<unknown>;
    contribute(oldZkey: string, newZkey: string, name: string, entropy: Entropy, logger?: Logger): Promise<Uint8Array>;
    beacon(oldZkey: string, newZkey: string, name: string, beaconHash: string, numIterationsExp: number, logger?: Logger): Promise<Uint8Array>;
    verifyFromR1cs(r1cs: string, ptau: string, zkey: string, logger?: Logger): Promise<boolean>;
    exportVerificationKey(zkey: string, logger?: Logger): Promise<VerificationKey>;
    exportSolidityVerifier(zkey: string, templates: Record<string, string>, logger?: Logger): Promise<string>;
  };
  export const wtns: {
    calculate(input: Record<string, unknown>, wasm: string, wtnsFile: string | { type: 'mem'; data?: Uint8Array }): Promise<void>;
    check(r1cs: string, wtnsFile: string, logger?: Logger): Promise<boolean>;
    exportJson(wtnsFile: string): Promise<bigint[]>;
  };
  export const groth16: {
    prove(zkey: string, wtnsFile: string, logger?: Logger): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    fullProve(input: Record<string, unknown>, wasm: string, zkey: string, logger?: Logger): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    verify(vk: VerificationKey, publicSignals: string[], proof: Groth16Proof, logger?: Logger): Promise<boolean>;
    exportSolidityCallData(proof: Groth16Proof, publicSignals: string[]): Promise<string>;
  };
  export const r1cs: {
    info(file: string, logger?: Logger): Promise<{ nConstraints: number; nVars: number; nOutputs: number; nPubInputs: number; nPrvInputs: number }>;
  };
}
