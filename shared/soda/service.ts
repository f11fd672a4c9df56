/**
 * The SODA cutout service as the UWS engine sees it: jobs at /api/cutout/async and sync
 * requests run worker/soda/processor; a failed job's /error is SODA's text/plain
 * document, whose first word is the error label (SODA 1.0 §5.2).
 */
import path from 'node:path';
import { PROJECT_ROOT } from '../runtime';
import { plainErrorDocument, type UwsService } from '../uws/service';

export const CUTOUT_SERVICE: UwsService = {
  name: 'cutout',
  title: 'SODA 1.0 image cutouts',
  processorModule: path.join(PROJECT_ROOT, 'worker', 'soda', 'processor.ts'),
  errorDocument: plainErrorDocument,
};
