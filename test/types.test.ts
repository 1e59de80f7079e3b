// The README's API block type-checks as a user's TypeScript (strict, nodenext) against the built
// package, and a typo in a loss, optimizer, metric, activation or initializer name does not compile.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);

const root = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'simdnn-readme-'));
mkdirSync(join(dir, 'node_modules'));
symlinkSync(root, join(dir, 'node_modules', 'simdnn'), 'dir');
symlinkSync(join(root, 'node_modules', '@types'), join(dir, 'node_modules', '@types'), 'dir');
writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Type-checks the given .mts files in one tsc run (asynchronously: the test worker stays responsive); returns tsc's output. */
async function tsc(files: Record<string, string>): Promise<string> {
  for (const [name, source] of Object.entries(files)) writeFileSync(join(dir, name), source);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'ES2022', strict: true, noEmit: true, types: ['node'] },
    files: Object.keys(files),
  }));
  const r = await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { cwd: dir, encoding: 'utf8' }).catch((e) => e);
  return String(r.stdout);
}

const typos: [string, string, RegExp][] = [
  ['loss', "m.compile({ loss: 'sofmaxCrossEntropy', optimizer: 'adam' });", /"sofmaxCrossEntropy"' is not assignable/],
  ['optimizer', "m.compile({ loss: 'mse', optimizer: 'adma' });", /"adma"' is not assignable/],
  ['metric', "m.compile({ loss: 'mse', optimizer: 'adam', metrics: ['accuarcy'] });", /"accuarcy"' is not assignable/],
  ['activation', "nn.dense(4, { activation: 'rellu' });", /"rellu"' is not assignable/],
  ['initializer', "nn.dense(4, { init: 'hee' });", /"hee"' is not assignable/],
  ['fit-input', "await m.fit('x', [1]);", /Argument of type 'string' is not assignable/],
];

describe('types', () => {
  let out = '';
  beforeAll(async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const block = /## The API by example\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const files: Record<string, string> = { 'readme.mts': `${block}\nexport {};\n` };
    for (const [what, line] of typos) {
      files[`typo-${what}.mts`] = `import * as nn from 'simdnn';\nconst m = nn.sequential({ inputShape: [2] }, [nn.dense(1)]);\n${line}\nexport {};\n`;
    }
    out = await tsc(files);
  });

  it("the README's API block compiles under strict + nodenext", () => {
    expect(readFileSync(join(dir, 'readme.mts'), 'utf8')).toContain("import * as nn from 'simdnn';");
    expect(out.split('\n').filter((l) => l.startsWith('readme.mts'))).toEqual([]);
  });
  for (const [what, , err] of typos) {
    it(`a typo in a ${what.replace('-', ' ')} does not compile`, () => {
      const lines = out.split('\n').filter((l) => l.startsWith(`typo-${what}.mts`));
      expect(lines.join('\n')).toMatch(err);
    });
  }
});
