// Child processes for the tests, run without blocking the test process. A synchronous child
// (spawnSync, execFileSync) stops vitest's worker from answering its RPC; beside another CPU-bound
// process one that lasts over 60 s ends an all-green run with `[vitest-worker]: Timeout calling
// "onTaskUpdate"` (exit 1). With these the worker's event loop stays free however long a child takes.
import { execFile } from 'node:child_process';

export interface ChildResult { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** A bound on a hung child, below vitest's testTimeout (vitest.config.ts), so the child is killed first. */
export const CHILD_TIMEOUT_MS = 540_000;

/** `node …args`: exit status, signal and output; never rejects. */
export function runNode(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ChildResult> {
  return new Promise((done) => {
    const child = execFile(process.execPath, args, { cwd: opts.cwd, env: opts.env, encoding: 'utf8', maxBuffer: 256 << 20, timeout: CHILD_TIMEOUT_MS },
      (_e, stdout, stderr) => done({ status: child.exitCode, signal: child.signalCode, stdout, stderr }));
  });
}

/** `node …args` that must exit 0 (as execFileSync): its stdout, or an error with its stderr. */
export async function runNodeOk(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const r = await runNode(args, opts);
  if (r.status !== 0) throw new Error(`node ${args.map((a) => (a.length > 80 ? a.slice(0, 77) + '…' : a)).join(' ')} exited with ${r.status ?? r.signal}:\n${r.stderr}`);
  return r.stdout;
}
