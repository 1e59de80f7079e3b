// The entry points of the package: esbuild bundles the tsc output (build/src) into one file per
// module system, build/dist/simdnn.mjs (import) and build/dist/simdnn.cjs (require). One file
// loads several times faster than ~45 ES modules (cold start, bench/size.ts). Dependencies stay
// external; in the CommonJS file import.meta.url (which locates build/wasm and the mnist package)
// becomes the file's own URL.
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const common = { entryPoints: ['build/src/index.js'], bundle: true, platform: 'node', target: 'node20', packages: 'external', logLevel: 'warning' };
await build({ ...common, outfile: 'build/dist/simdnn.mjs', format: 'esm' });
await build({
  ...common,
  outfile: 'build/dist/simdnn.cjs',
  format: 'cjs',
  define: { 'import.meta.url': '__simdnn_import_meta_url' },
  banner: { js: "const __simdnn_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
});

// Types for require('simdnn'): the declarations of build/src, copied under a package.json that
// says "commonjs", so TypeScript (node16/nodenext) reads them as CommonJS, not as ES modules.
rmSync('build/dist/cjs-types', { recursive: true, force: true });
cpSync('build/src', 'build/dist/cjs-types', { recursive: true, filter: (p) => !/\.js$/.test(p) });
writeFileSync('build/dist/cjs-types/package.json', '{ "type": "commonjs" }\n');
