// Bundles the in-browser prover page (src/app/page) into dist/app with esbuild: the same
// src/prover, src/qexec and src/ir code the CLI runs, with snarkjs's and ffjavascript's browser
// builds. Node built-ins are reachable only through paths the page never takes (reading a zkey
// from a file name, Dawn for Node), so they become a module that throws if ever called.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'app');
mkdirSync(out, { recursive: true });

const nodeOnly = {
  name: 'node-only',
  setup(b) {
    const only = /^(node:.*|fs|path|os|url|crypto|module|worker_threads|child_process|readline|webgpu|web-worker)$/;
    b.onResolve({ filter: only }, (a) => ({ path: a.path, namespace: 'node-only' }));
    b.onLoad({ filter: /.*/, namespace: 'node-only' }, async (a) => {
      // every name the real module exports, each a function that throws when called
      let names = [];
      try { names = Object.keys(await import(a.path)).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default'); } catch { /* not installed here */ }
      const fail = `() => { throw new Error(${JSON.stringify(`${a.path} is not available in a browser`)}); }`;
      return {
        contents: `const fail = ${fail};\nexport default new Proxy({}, { get: () => fail });\n${names.map((n) => `export const ${n} = fail;`).join('\n')}`,
        loader: 'js',
      };
    });
  },
};

await build({
  entryPoints: [join(root, 'src/app/page/main.ts')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  conditions: ['browser'],
  target: 'es2022',
  outfile: join(out, 'app.js'),
  sourcemap: true,
  minify: true,
  logLevel: 'warning',
  plugins: [nodeOnly],
  define: { 'process.env.NODE_DEBUG': 'false', global: 'globalThis' },
});
for (const f of ['index.html', 'app.css']) copyFileSync(join(root, 'src/app/page', f), join(out, f));
