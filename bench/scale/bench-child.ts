import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** A TypeScript file of the bench in a process of its own, run from source as the e2e bench runs its workers. */
export function forkBenchProcess(file: string): ChildProcess {
  return fork(file, [], {
    cwd: ROOT,
    execArgv: ['-r', '@swc-node/register'],
    env: { ...process.env, SWC_NODE_PROJECT: join(ROOT, 'tsconfig.json') },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/**
 * The next IPC message of a child with this `event`; rejects on its `error` event, its exit or the timeout. Every
 * listener goes when it settles: a bench asks its workers hundreds of questions.
 */
export function nextMessage<E extends { event: string }>(
  child: ChildProcess,
  event: E['event'],
  label: string,
  timeoutMs = 300_000,
): Promise<E> {
  return new Promise<E>((resolve, reject) => {
    const settle = (error?: Error, message?: E) => {
      child.off('message', onMessage);
      child.off('exit', onExit);
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(message!);
    };
    const onMessage = (message: { event: string; message?: string }) => {
      if (message.event === 'error') settle(new Error(`${label}: ${message.message}`));
      else if (message.event === event) settle(undefined, message as E);
    };
    const onExit = (code: number | null) => settle(new Error(`${label} exited (${code})`));
    const timer = setTimeout(() => settle(new Error(`${label}: no '${event}' in ${timeoutMs} ms`)), timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Asks a child to close, kills it if it has not exited 5 s later; resolves once it is gone. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  if (child.connected) child.send({ cmd: 'close' });
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
