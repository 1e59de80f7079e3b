// Compiles assembly/ into the three builds of DESIGN §6 (simd, relaxed, scalar) under build/wasm/.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const asc = createRequire(import.meta.url).resolve('assemblyscript/bin/asc.js');
for (const target of ['simd', 'relaxed', 'scalar']) {
  execFileSync(process.execPath, [asc, 'assembly/index.ts', '--config', 'asconfig.json', '--target', target],
    { stdio: 'inherit' });
}
