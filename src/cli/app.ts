// `zkonnx app`: the in-browser prover page on a local server (src/app/server.ts).
import type { Command } from 'commander';
import { int, serveUntilSignal } from './service.js';

export function register(program: Command): void {
  program.command('app')
    .description('a web page that proves compiled models in the browser (WebGPU or WebAssembly); the input never leaves the page')
    .option('--models <dir>', 'folder whose subfolders are compiled and set-up builds', 'build')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', int('--port', 0), 8090)
    .action((o) => serveUntilSignal(async () => {
      const { startApp } = await import('../app/server.js'); // its server's modules load for this verb only
      const s = await startApp({ models: o.models, host: o.host, port: o.port });
      return { close: () => s.close(), ready: `zkonnx app: open ${s.url}/ in a browser` };
    }));
}
