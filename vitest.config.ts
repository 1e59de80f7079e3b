import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Tests run in forked Node processes with the relaxed-SIMD flag, so all three builds are tested
// (Node 20 accepts the relaxed build only with it; Node 22+ by default).
//
// Made to pass on a loaded 2-core machine (checked beside `node -e 'for(;;);'`):
// - one test file per two cores: many files run CPU-bound child processes (the CLI, the examples,
//   tsc) or worker threads, so more forks only make every file slower;
// - the worker's event loop is never held for 60 s, the deadline (not configurable in vitest 3) by
//   which it must read the answer to its "onTaskUpdate" RPC (missed: `Timeout calling
//   "onTaskUpdate"`, exit 1 with every test green): children run asynchronously
//   (test/util/child.ts), and test/util/setup.ts turns the event loop between tests;
// - the timeouts bound a hung test, not a slow one: every test does a fixed amount of work (the
//   CLI bench test runs `--steps 2`), which takes up to ~2 minutes beside another CPU-bound process.
const workers = Math.max(1, Math.floor(availableParallelism() / 2));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/util/setup.ts'],
    pool: 'forks',
    poolOptions: { forks: { execArgv: ['--experimental-wasm-relaxed-simd'] } },
    maxWorkers: workers,
    minWorkers: 1,
    testTimeout: 600_000,
    hookTimeout: 600_000,
    teardownTimeout: 60_000,
  },
});
