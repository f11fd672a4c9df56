/** `npm run bench`: every benchmark in turn. */
import { benchBulk } from './bulk';
import { benchCutout } from './cutout';
import { benchFits } from './fits';
import { benchJoblist } from './joblist';
import { benchPageCache } from './page-cache';
import { benchPreview, benchPreviewHttp } from './preview';
import { benchSync } from './sync';
import { benchTap } from './tap';
import { benchUws } from './uws';

void (async () => {
  await benchUws();
  await benchJoblist();
  await benchFits();
  await benchTap();
  await benchCutout();
  await benchSync();
  await benchBulk();
  await benchPageCache();
  await benchPreview();
  await benchPreviewHttp();
})().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
