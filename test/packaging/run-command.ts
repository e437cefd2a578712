import { execFile } from 'node:child_process';

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/**
 * The environment of a command run as a user would run it in a shell. When the suite itself runs under `npm test`,
 * npm exports `npm_config_*` / `npm_package_*` for the repository; a nested npm would otherwise act on the
 * repository's settings instead of the directory it runs in. NODE_ENV (jest sets `test`) changes what npm installs.
 */
export function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.toLowerCase().startsWith('npm_') && name !== 'NODE_ENV' && name !== 'INIT_CWD') env[name] = value;
  }
  return { ...env, ...extra };
}

/** Runs a command to completion; a failure carries the command line and its output, which is what one debugs. */
export function runCommand(
  command: string,
  args: string[],
  options: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env ?? userEnv(), timeout: options.timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return resolve({ stdout, stderr });
        const line = [command, ...args].join(' ');
        const reason = error.killed ? `timed out after ${options.timeoutMs} ms` : `failed (${String(error.code)})`;
        reject(new Error(`\`${line}\` in ${options.cwd} ${reason}:\n${stdout}\n${stderr}`.trimEnd()));
      },
    );
  });
}
