// Loading the builds (packaged file, bytes, precompiled module, $SIMDNN_ISA) and the arena.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, MemoryLimitError } from '../../src/errors.js';
import { Engine, backendInfo, chooseIsa, packagedBytes, runtimeAccepts } from '../../src/wasm.js';

const WASM = new URL('../../build/src/wasm.js', import.meta.url).pathname;

describe('loader', () => {
  it('picks the best build the runtime accepts (relaxed under the flag vitest passes)', () => {
    expect(runtimeAccepts('relaxed')).toBe(true);
    expect(chooseIsa()).toBe(process.env.SIMDNN_ISA || 'relaxed');
    expect(backendInfo()).toMatch(/^simdnn · wasm (relaxed|simd|scalar) .* · Node v\d+/);
    expect(backendInfo().split('\n').length).toBe(1);
  });

  it('without --experimental-wasm-relaxed-simd Node 20 rejects the relaxed build: simd is chosen, forcing relaxed fails clearly', () => {
    const code = `import('${WASM}').then((w) => { console.log(w.chooseIsa()); try { w.chooseIsa('relaxed'); } catch (e) { console.log(e.name + ': ' + e.message); } })`;
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', env: { ...process.env, SIMDNN_ISA: '' } });
    const [first, second] = r.stdout.trim().split('\n');
    if (Number(process.versions.node.split('.')[0]) < 22) {
      expect(first).toBe('simd');
      expect(second).toMatch(/ConfigError: simdnn.init: isa "relaxed" was requested but WebAssembly.validate rejects that build; on Node 20 start node with --experimental-wasm-relaxed-simd/);
    } else {
      expect(first).toBe('relaxed');
    }
  });

  it('SIMDNN_ISA forces a build; an unknown one is a ConfigError', () => {
    const code = `import('${WASM}').then((w) => console.log(new w.Engine().isa))`;
    for (const isa of ['scalar', 'simd']) {
      const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', env: { ...process.env, SIMDNN_ISA: isa } });
      expect(r.stdout.trim()).toBe(isa);
    }
    expect(() => chooseIsa('avx512' as never)).toThrow(ConfigError);
    expect(() => chooseIsa('avx512' as never)).toThrow(/isa is "avx512"; it must be one of relaxed, simd, scalar/);
  });

  it('loads from bytes and from a precompiled WebAssembly.Module (no file system needed)', () => {
    const bytes = packagedBytes('simd');
    const a = new Engine({ bytes, isa: 'simd' });
    const b = new Engine({ module: new WebAssembly.Module(bytes as unknown as BufferSource), isa: 'simd' });
    for (const e of [a, b]) {
      const p = e.upload(Float32Array.of(1, 2, 3, 4));
      const q = e.upload(Float32Array.of(1, 1, 1, 1));
      const c = e.alloc(4);
      e.k.f32_gemm_nn(c, p, q, 1, 4, 1, 0);
      expect(e.f32[c >> 2]).toBe(10);
    }
    expect(() => new Engine({ bytes: Uint8Array.of(0, 97, 115, 109) })).toThrow(/do not validate/);
    expect(() => new Engine({ module: {} as never })).toThrow(/must be a WebAssembly.Module/);
  });

  it('arena: aligned blocks, reuse after release with coalescing, views rebuilt after memory.grow', () => {
    const e = new Engine({ isa: 'simd' });
    const live = e.liveAllocations;
    const a = e.alloc(10), b = e.alloc(100), c = e.alloc(1000);
    expect([a % 16, b % 16, c % 16]).toEqual([0, 0, 0]);
    expect(b).toBeGreaterThanOrEqual(a + 16);
    e.release(a); e.release(b);
    // a and b coalesced: a request that fits both lands at a.
    expect(e.alloc(100 + 16)).toBe(a);
    const before = e.memoryBytes, view = e.f32;
    const big = e.alloc(64 << 20);
    expect(e.memoryBytes).toBeGreaterThan(before);
    expect(e.f32).not.toBe(view);
    e.f32[(big >> 2) + (16 << 20) - 1] = 5;
    expect(e.f32[(big >> 2) + (16 << 20) - 1]).toBe(5);
    expect(() => e.release(12345)).toThrow(/not a live allocation/);
    expect(e.liveAllocations).toBe(live + 3);
  });

  it('a request beyond 4 GiB is a MemoryLimitError naming the bytes, and the engine keeps working', () => {
    const e = new Engine({ isa: 'simd' });
    expect(() => e.alloc(5 * 2 ** 30)).toThrow(MemoryLimitError);
    expect(() => e.alloc(5 * 2 ** 30)).toThrow(/a request for 5368709120 bytes .* the limit is 4 GiB/);
    const p = e.alloc(64);
    expect(p).toBeGreaterThan(0);
  });
});
