// Minimal SVG bar charts for benchmark results (no dependency; one chart per metric).
export interface Bar {
  label: string;
  value: number;
}

export function barChart(title: string, unit: string, bars: Bar[], opts: { log?: boolean } = {}): string {
  const W = 760;
  const rowH = 22;
  const left = 170;
  const right = 90;
  const top = 36;
  const H = top + bars.length * rowH + 16;
  const f = (v: number) => (opts.log ? Math.log10(Math.max(v, 1e-9) + 1) : v);
  const max = Math.max(...bars.map((b) => f(b.value)), 1e-9);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const rows = bars.map((b, i) => {
    const y = top + i * rowH;
    const w = ((W - left - right) * f(b.value)) / max;
    const v = b.value >= 100 ? b.value.toFixed(0) : b.value >= 1 ? b.value.toFixed(2) : b.value.toPrecision(3);
    return `<text x="${left - 8}" y="${y + 15}" text-anchor="end">${esc(b.label)}</text>`
      + `<rect x="${left}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="#4a7bd0"/>`
      + `<text x="${left + w + 6}" y="${y + 15}">${v} ${esc(unit)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`
    + `<rect width="100%" height="100%" fill="white"/><text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}${opts.log ? ' (log scale)' : ''}</text>`
    + rows.join('') + '</svg>\n';
}

/** A fixed-width text table. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const w = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** The machine the numbers came from, to publish next to them. */
export async function machine(): Promise<string> {
  const os = await import('node:os');
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}
