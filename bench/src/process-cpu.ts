import { readFileSync } from 'node:fs';

const statCpuMs = (path: string) => {
  const fields = readFileSync(path, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

/** User + system CPU time of a process so far, all its threads, in ms (from /proc; clock ticks of 10 ms). */
export const cpuMs = (pid: number): number => statCpuMs(`/proc/${pid}/stat`);

/** The same for the process's main thread alone: the one a node server serves its requests on. */
export const mainThreadCpuMs = (pid: number): number => statCpuMs(`/proc/${pid}/task/${pid}/stat`);
