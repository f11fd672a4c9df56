/** `npm run bench`: every benchmark in turn. */
import { benchCutout } from './cutout';
import { benchFits } from './fits';
import { benchTap } from './tap';
import { benchUws } from './uws';

void (async () => {
  await benchUws();
  await benchFits();
  await benchTap();
  await benchCutout();
})().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
