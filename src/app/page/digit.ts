// The digit canvas: the user draws with a thick white stroke on black, and the drawing becomes an
// MNIST-style image: the ink's bounding box scaled to 20×20 pixels, centred by its centre of mass
// in a 28×28 frame, pixels in [0, 1] with 3 decimals (the mnist package's values), and for the
// 196-input model 2×2-average-pooled to 14×14 (models/mnist-mlp/meta.json "preprocessing").

export class DigitPad {
  private readonly ctx: CanvasRenderingContext2D;
  private drawing = false;
  private inked = false;

  constructor(readonly canvas: HTMLCanvasElement, private readonly onChange: () => void) {
    this.ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    this.clear();
    const at = (e: PointerEvent) => {
      const r = canvas.getBoundingClientRect();
      return [((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height] as const;
    };
    canvas.addEventListener('pointerdown', (e) => {
      this.drawing = true;
      canvas.setPointerCapture(e.pointerId);
      const [x, y] = at(e);
      this.ctx.beginPath();
      this.ctx.moveTo(x, y);
      this.ctx.lineTo(x + 0.1, y);
      this.ctx.stroke();
      this.inked = true;
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!this.drawing) return;
      const [x, y] = at(e);
      this.ctx.lineTo(x, y);
      this.ctx.stroke();
    });
    const end = () => {
      if (!this.drawing) return;
      this.drawing = false;
      this.onChange();
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  clear(): void {
    const { ctx, canvas } = this;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = canvas.width / 12;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    this.inked = false;
  }

  get empty(): boolean {
    return !this.inked;
  }

  /** The drawing as model input: 28·28 or 14·14 values in [0, 1], row-major. */
  pixels(side: 28 | 14): number[] {
    const img28 = mnistFrame(this.canvas);
    return side === 28 ? img28 : pool2x2(img28);
  }
}

function mnistFrame(src: HTMLCanvasElement): number[] {
  const { width: W, height: H } = src;
  const data = src.getContext('2d')!.getImageData(0, 0, W, H).data;
  let x0 = W, y0 = H, x1 = -1, y1 = -1;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (data[(y * W + x) * 4]! > 0) {
        x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return new Array(784).fill(0);
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  const s = 20 / Math.max(bw, bh);
  const draw = (dx: number, dy: number) => {
    const c = document.createElement('canvas');
    c.width = c.height = 28;
    const g = c.getContext('2d', { willReadFrequently: true })!;
    g.fillStyle = '#000';
    g.fillRect(0, 0, 28, 28);
    g.imageSmoothingEnabled = true;
    g.imageSmoothingQuality = 'high';
    g.drawImage(src, x0, y0, bw, bh, dx, dy, bw * s, bh * s);
    const d = g.getImageData(0, 0, 28, 28).data;
    return Array.from({ length: 784 }, (_, i) => Math.round((d[i * 4]! / 255) * 1000) / 1000);
  };
  // first centre the box, then move the centre of mass to the frame's centre, as MNIST was made
  const dx = 14 - (bw * s) / 2, dy = 14 - (bh * s) / 2;
  const first = draw(dx, dy);
  let m = 0, mx = 0, my = 0;
  first.forEach((v, i) => { m += v; mx += v * (i % 28); my += v * Math.floor(i / 28); });
  if (m === 0) return first;
  return draw(dx + Math.round(13.5 - mx / m), dy + Math.round(13.5 - my / m));
}

/** 2×2 average pooling, 28×28 → 14×14, exact on 3-decimal pixels (as models/mnist-mlp/train.ts). */
export function pool2x2(p: number[]): number[] {
  const out: number[] = [];
  for (let r = 0; r < 14; r++) {
    for (let c = 0; c < 14; c++) {
      let k = 0;
      for (const [dr, dc] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) k += Math.round(p[(2 * r + dr) * 28 + 2 * c + dc]! * 1000);
      out.push(k / 4000);
    }
  }
  return out;
}
