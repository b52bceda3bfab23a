// Where the constraints go: each R1CS constraint is attributed to the generated component it
// belongs to (main.aJ[…] for non-linear value J, main.rcI[…] for input I's range checks), by the
// signals it touches. Exact for the compiled circuit, whatever the optimization level.
import { readR1cs } from './r1cs.js';
import { readSymbols } from './witness.js';

const COMPONENT = /^main\.((?:a|rc)\d+)\[/;

/** Constraint count per component prefix ('a3', 'rc0'); 'other' for the rest. */
export async function constraintBreakdown(r1csPath: string, symPath: string): Promise<Map<string, number>> {
  const [r1cs, symbols] = await Promise.all([readR1cs(r1csPath), readSymbols(symPath)]);
  const owner = new Map<number, string>();
  for (const [name, wire] of symbols) {
    if (wire < 0 || owner.has(wire)) continue;
    const m = COMPONENT.exec(name);
    if (m) owner.set(wire, m[1]!);
  }
  // At --O2 circom substitutes signals away, so one constraint can touch the bits of an earlier
  // component it reads from: it belongs to the latest component it touches.
  const rank = (o: string) => (o.startsWith('rc') ? Number(o.slice(2)) : 1e9 + Number(o.slice(1)));
  const counts = new Map<string, number>();
  for (const c of r1cs.constraints) {
    let who = 'other';
    for (const lc of [c.a, c.b, c.c]) {
      for (const wire of lc.keys()) {
        const o = owner.get(wire);
        if (o && (who === 'other' || rank(o) > rank(who))) who = o;
      }
    }
    counts.set(who, (counts.get(who) ?? 0) + 1);
  }
  return counts;
}
