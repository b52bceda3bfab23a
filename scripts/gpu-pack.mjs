// The JavaScript half of scripts/gpu-pack.sh: bundles benchmarks/prove.ts into one ESM file for
// Node (.gpu/prove.mjs, snarkjs, ffjavascript and wasmcurves inlined) and lays out the minimal
// node_modules it still needs at run time, for a machine with no npm and no network:
//   webgpu     external: index.js + package.json here; dawn.node (gzipped) is added by gpu-pack.sh
//   web-worker external: ffjavascript's worker threads start `new Worker(__filename)` from
//              web-worker's own file, which must stay a file of its own (bundled, __filename
//              would be the benchmark itself, run again in every worker)
// (No circom2: the benchmark writes its chain circuits' r1cs and witness directly.)
// Two files of ours load snarkjs's src/ modules by paths computed at run time
// (src/setup/fast/{snarkjs,zkey}-internals.ts); the plugin below turns those into imports of
// fixed files that esbuild can follow, so the bundle holds one copy of each module.
//
//   node scripts/gpu-pack.mjs <out folder>
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(root, '.gpu'));
const nm = join(out, 'node_modules');
/** An installed package's folder (top-level node_modules; some packages do not export ./package.json). */
const pkgDir = (name) => {
  const d = join(root, 'node_modules', name);
  if (!existsSync(join(d, 'package.json'))) throw new Error(`gpu-pack: ${name} is not installed (npm ci first)`);
  return d;
};

// ---------------------------------------------------------------------------------------------
// snarkjs internals: import(src('x.js')) → import("<abs>/snarkjs/src/x.js") and so on.

const snarkjsRoot = pkgDir('snarkjs');
const snarkjsSrc = join(snarkjsRoot, 'src');

const internals = {
  name: 'snarkjs-internals',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]setup[\\/]fast[\\/](snarkjs|zkey)-internals\.ts$/ }, async (a) => {
      let text = readFileSync(a.path, 'utf8');
      const need = (re, min) => {
        const n = (text.match(re) ?? []).length;
        if (n < min) throw new Error(`gpu-pack: ${a.path} no longer has ${re} (found ${n}, want ${min}): update scripts/gpu-pack.mjs`);
      };
      const resolveFromSnarkjs = async (spec) => {
        const r = await b.resolve(spec, { resolveDir: snarkjsSrc, kind: 'import-statement' });
        if (r.errors.length) throw new Error(`gpu-pack: cannot resolve ${spec} from snarkjs: ${r.errors[0].text}`);
        return r.path;
      };
      // snarkjs's root: only its src/ is used below, so any path of the right shape will do
      need(/require\.resolve\('snarkjs'\)/g, 1);
      text = text.replace(/require\.resolve\('snarkjs'\)/g, JSON.stringify(join(snarkjsRoot, 'build', 'main.cjs')));
      need(/import\(src\('[\w.]+'\)\)/g, 3);
      text = text.replace(/import\(src\('([\w.]+)'\)\)/g, (_, f) => `import(${JSON.stringify(join(snarkjsSrc, f))})`);
      const deps = [...text.matchAll(/import\(pathToFileURL\(fromSnarkjs\.resolve\('([^']+)'\)\)\.href\)/g)].map((m) => m[1]);
      for (const d of deps) {
        const p = await resolveFromSnarkjs(d);
        text = text.replace(`import(pathToFileURL(fromSnarkjs.resolve('${d}')).href)`, `import(${JSON.stringify(p)})`);
      }
      // fromSnarkjs('<module>'), a synchronous require: a static import of the same module snarkjs's src/ imports
      const reqs = [...text.matchAll(/fromSnarkjs\('([^']+)'\)/g)].map((m) => m[1]);
      let head = '';
      for (const [i, d] of reqs.entries()) {
        head += `import * as __gpuPackReq${i} from ${JSON.stringify(await resolveFromSnarkjs(d))};\n`;
        text = text.replace(`fromSnarkjs('${d}')`, `__gpuPackReq${i}`);
      }
      if (/snarkjs-internals\.ts$/.test(a.path)) {
        if (deps.length < 2 || reqs.length < 1) throw new Error(`gpu-pack: ${a.path} changed shape: update scripts/gpu-pack.mjs`);
      }
      return { contents: head + text, loader: 'ts', resolveDir: dirname(a.path) };
    });
  },
};

// Bundled CommonJS (wasmcurves, blake2b-wasm, bfj, …) calls require() for Node built-ins: give
// the ESM bundle a real require. No __filename/__dirname on purpose (see web-worker above).
const banner = "import { createRequire as __gpuPackCreateRequire } from 'node:module';\nconst require = __gpuPackCreateRequire(import.meta.url);";

mkdirSync(out, { recursive: true });
const main = await build({
  entryPoints: [join(root, 'benchmarks', 'prove.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: join(out, 'prove.mjs'),
  external: ['webgpu', 'web-worker'],
  banner: { js: banner },
  // ffjavascript ships its worker's code as thread.toString(): keep function bodies as written
  minify: false,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  plugins: [internals],
});
const inputs = Object.keys(main.metafile.inputs);
for (const must of ['node_modules/wasmcurves/', 'node_modules/ffjavascript/', 'node_modules/snarkjs/src/zkey_utils.js', 'node_modules/snarkjs/src/powersoftau_utils.js']) {
  if (!inputs.some((i) => i.includes(must))) throw new Error(`gpu-pack: the bundle lacks ${must}`);
}
for (const i of inputs) if (/node_modules\/web-worker\/|node_modules\/webgpu\//.test(i)) throw new Error(`gpu-pack: ${i} was bundled; it must stay external`);

// ---------------------------------------------------------------------------------------------
// node_modules for the run

const slimPackage = (name, fields) => {
  const pkg = JSON.parse(readFileSync(join(pkgDir(name), 'package.json'), 'utf8'));
  const slim = Object.fromEntries(Object.entries(pkg).filter(([k]) => fields.includes(k)));
  mkdirSync(join(nm, name), { recursive: true });
  writeFileSync(join(nm, name, 'package.json'), `${JSON.stringify(slim, null, 2)}\n`);
};

// webgpu: index.js reads dist/<platform>-<arch>/dawn.node beside it
slimPackage('webgpu', ['name', 'version', 'type', 'main', 'license']);
copyFileSync(join(pkgDir('webgpu'), 'index.js'), join(nm, 'webgpu', 'index.js'));
copyFileSync(join(pkgDir('webgpu'), 'LICENSE.md'), join(nm, 'webgpu', 'LICENSE.md'));
mkdirSync(join(nm, 'webgpu', 'dist', 'linux-x64'), { recursive: true });

// web-worker: its Node implementation, one CommonJS file with built-in requires only
slimPackage('web-worker', ['name', 'version', 'main', 'exports', 'license']);
mkdirSync(join(nm, 'web-worker', 'cjs'), { recursive: true });
copyFileSync(join(pkgDir('web-worker'), 'cjs', 'node.js'), join(nm, 'web-worker', 'cjs', 'node.js'));
copyFileSync(join(pkgDir('web-worker'), 'cjs', 'browser.js'), join(nm, 'web-worker', 'cjs', 'browser.js'));
copyFileSync(join(pkgDir('web-worker'), 'LICENSE'), join(nm, 'web-worker', 'LICENSE'));

// probe.mjs: what Dawn finds (run.sh runs it before the benchmark, with the Vulkan loader's
// own errors on): on a GPU machine the first thing to know when webgpu reads 'unavailable'
writeFileSync(join(out, 'probe.mjs'), `// made by scripts/gpu-pack.mjs: the adapters Dawn finds, per backend
process.env.EGL_PLATFORM ??= 'surfaceless';
const { create } = await import('webgpu');
const keep = [];
for (const [flags, opts] of [[['backend=vulkan'], { powerPreference: 'high-performance' }], [[], { powerPreference: 'high-performance' }], [['backend=opengles'], { featureLevel: 'compatibility' }]]) {
  const label = flags[0] ?? 'default';
  try {
    const gpu = create(flags);
    keep.push(gpu);
    const a = await gpu.requestAdapter(opts);
    const i = a?.info;
    console.log(\`probe: \${label}: \${a ? [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' | ') + (a.isFallbackAdapter ? ' (fallback)' : '') + ', maxBufferSize ' + a.limits.maxBufferSize + ', maxStorageBufferBindingSize ' + a.limits.maxStorageBufferBindingSize : 'no adapter'}\`);
  } catch (e) {
    console.log(\`probe: \${label}: error: \${String(e?.message ?? e).split('\\n')[0]}\`);
  }
}
process.exit(0);
`);

console.log(`gpu-pack: bundled ${inputs.length} modules into ${join(out, 'prove.mjs')}`);
