import { readFileSync } from 'node:fs';

/** User + system CPU of a process, in µs, from /proc/<pid>/stat (clock ticks of 10 ms on Linux). */
export function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/**
 * Bytes a process handed to write/send calls (`wchar` of /proc/<pid>/io): for a gateway, what it put on its
 * sockets (frames to clients, plus its few Redis commands and HTTP answers).
 */
export function writtenBytes(pid: number): number {
  const match = /^wchar:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  if (!match) throw new Error(`/proc/${pid}/io has no wchar`);
  return Number(match[1]);
}

/** CPU and bytes written by a process from now until `stop()`. */
export function usageFrom(pid: number): { stop(): { cpuUs: number; bytes: number; ms: number } } {
  const cpu = cpuMicros(pid);
  const bytes = writtenBytes(pid);
  const started = performance.now();
  return {
    stop: () => ({
      cpuUs: cpuMicros(pid) - cpu,
      bytes: writtenBytes(pid) - bytes,
      ms: performance.now() - started,
    }),
  };
}

/** Resident memory of a process in bytes, from VmRSS of /proc/<pid>/status (what the kernel charges it for). */
export function vmRssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`/proc/${pid}/status has no VmRSS`);
  return Number(match[1]) * 1024;
}
