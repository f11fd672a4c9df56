/** Entry of a thread that cuts one range of a large cutout job (worker/soda/processor.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { cutRange, type CutPart } from './processor';

const part = workerData as CutPart;
try {
  parentPort?.postMessage(cutRange(part));
} catch (err) {
  // The error's class does not cross threads: its name tells a user's error (JobFailure).
  parentPort?.postMessage({ error: (err as Error).message, name: (err as Error).name });
}
