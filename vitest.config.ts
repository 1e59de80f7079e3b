import { defineConfig } from 'vitest/config';

// Tests run in forked Node processes with the relaxed-SIMD flag, so all three builds are tested
// (Node 20 accepts the relaxed build only with it; Node 22+ by default).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { execArgv: ['--experimental-wasm-relaxed-simd'] } },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
