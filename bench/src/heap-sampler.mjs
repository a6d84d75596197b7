// Preloaded into a broker by bench:ingest-profile (BENCH_HEAP=1): samples every allocation from
// start-up on, including objects garbage-collected since, and writes the profile to HEAP_PROFILE_OUT
// when the process is told to stop (SIGTERM).
import inspector from 'node:inspector';
import { writeFileSync } from 'node:fs';

const session = new inspector.Session();
session.connect();
session.post('HeapProfiler.enable');
session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
process.on('SIGTERM', () => {
  session.post('HeapProfiler.stopSampling', (error, result) => {
    if (!error) writeFileSync(process.env.HEAP_PROFILE_OUT, JSON.stringify(result.profile));
    process.exit(0);
  });
});
