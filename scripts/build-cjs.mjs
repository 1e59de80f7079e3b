// The CommonJS entry point (require('simdnn')): esbuild bundles the ESM build (build/src) into one
// build/cjs/index.cjs. Dependencies stay external (required at run time); import.meta.url, which
// locates build/wasm and the mnist package, becomes this file's own URL.
import { build } from 'esbuild';

await build({
  entryPoints: ['build/src/index.js'],
  outfile: 'build/cjs/index.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  define: { 'import.meta.url': '__simdnn_import_meta_url' },
  banner: { js: "const __simdnn_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
