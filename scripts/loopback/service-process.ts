// Runs a service the way its container does (`node dist/main.js`), on loopback, and reads its JSON log lines.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { REPO_ROOT } from '../repo.ts';

const SERVICES_DIR = path.join(REPO_ROOT, 'services');
const MAIN = path.join(SERVICES_DIR, 'dist', 'main.js');

export type LogLine = Record<string, unknown> & { msg?: string };

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export class ServiceProcess {
  readonly logs: LogLine[] = [];
  stderr = '';
  private child: ChildProcess | null = null;
  private exited: Promise<number | null> | null = null;

  constructor(readonly env: Record<string, string>) {}

  /** Starts the service and resolves once it logged "ready" (rejects if it exits first). */
  async start(timeoutMs = 10_000): Promise<this> {
    const child = spawn(process.execPath, [MAIN], {
      cwd: SERVICES_DIR,
      env: { PATH: process.env.PATH ?? '', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        resolve(code);
      }),
    );
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) this.logs.push(JSON.parse(line) as LogLine);
    });
    child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    const deadline = Date.now() + timeoutMs;
    while (!this.logs.some((line) => line.msg === 'ready')) {
      if (child.exitCode !== null) throw new Error(`service exited ${child.exitCode}: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`service not ready after ${timeoutMs} ms: ${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return this;
  }

  /**
   * The first log line matching `predicate`, waiting for it: a line written as a request ends may reach this process
   * after the answer did (another pipe, another turn of the event loop).
   */
  async waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 5000): Promise<LogLine | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.logs.find(predicate);
      if (line !== undefined || Date.now() > deadline) return line;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  /** Sends the signal (SIGTERM by default) and resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (!this.child || this.child.exitCode !== null) return this.child?.exitCode ?? null;
    this.child.kill(signal);
    return this.exited;
  }

  waitForExit(): Promise<number | null> {
    return this.exited ?? Promise.resolve(null);
  }
}

/** Runs main.js to completion with the given environment (for startup validation tests). */
export function runToExit(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('exit', (code) => {
      resolve({ code, stderr });
    });
  });
}
