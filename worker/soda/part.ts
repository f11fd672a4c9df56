/**
 * Entry of a thread that cuts ranges of large cutout jobs (worker/soda/processor.ts): one range
 * per message, answered with its results (or the error), then it waits for the next one. Kept
 * for reuse by the job's processor thread, so the next large job cuts with compiled code.
 */
import { parentPort } from 'node:worker_threads';
import { useNativeReadRows } from '../../shared/fits/native';
import { cutRange, type CutPart } from './processor';

parentPort?.on('message', (part: CutPart) => {
  useNativeReadRows(part.config.fitsNativeRows);
  try {
    parentPort?.postMessage(cutRange(part));
  } catch (err) {
    // The error's class does not cross threads: its name tells a user's error (JobFailure).
    parentPort?.postMessage({ error: (err as Error).message, name: (err as Error).name });
  }
});
