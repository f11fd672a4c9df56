/**
 * The SODA cutout service as the UWS engine sees it: jobs at /api/cutout/async and sync
 * requests run worker/soda/processor; a failed job's /error is SODA's text/plain
 * document, whose first word is the error label (SODA 1.0 §5.2).
 */
import path from 'node:path';
import { PROJECT_ROOT } from '../runtime';
import { ParameterError, plainErrorDocument, type UwsService } from '../uws/service';
import type { JobParameter } from '../uws/model';
import { SodaError } from './errors';
import { parseSodaOutput, unsupportedParamsError } from './params';

/**
 * At creation and on every change: parameters the service does not take, and the output
 * asked for (RESPONSEFORMAT, display parameters, RGB), are refused at once (400) rather than
 * ending the job in ERROR. The rest (ID, regions…) is checked when the job runs, as a PENDING
 * job may be given its parameters in several requests.
 */
async function validate(parameters: readonly JobParameter[]): Promise<void> {
  try {
    const unsupported = unsupportedParamsError(parameters);
    if (unsupported) throw unsupported;
    parseSodaOutput(
      parameters,
      parameters.filter((p) => p.name.toUpperCase() === 'ID' && p.value.trim() !== '').map((p) => p.value),
    );
  } catch (err) {
    if (err instanceof SodaError) throw new ParameterError(err.message);
    throw err;
  }
}

export const CUTOUT_SERVICE: UwsService = {
  name: 'cutout',
  title: 'SODA 1.0 image cutouts',
  processorModule: path.join(PROJECT_ROOT, 'worker', 'soda', 'processor.ts'),
  errorDocument: plainErrorDocument,
  validate,
};
