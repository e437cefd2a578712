import { readFileSync } from 'node:fs';

/** Resident memory of a process in bytes, from VmRSS of /proc/<pid>/status (what the kernel charges it for). */
export function vmRssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`/proc/${pid}/status has no VmRSS`);
  return Number(match[1]) * 1024;
}
