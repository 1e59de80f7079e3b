// Loaded before every test file (vitest.config.ts setupFiles). The runner goes from one test to
// the next with microtasks only, so a file of synchronous tests (the kernel sweeps) holds the
// worker's event loop for their whole sum: beside another CPU-bound process test/kernels/gemm.test.ts
// alone takes ~2 minutes, past the 60 s in which vitest's worker must read the answer to its
// "onTaskUpdate" RPC. One turn of the event loop before and after each test reads it, so only a
// single test over 60 s could still miss it.
import { afterEach, beforeEach } from 'vitest';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
beforeEach(turn);
afterEach(turn);
