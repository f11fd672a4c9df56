/** `npm run bench`: every benchmark in turn. */
import { benchFits } from './fits';
import { benchTap } from './tap';
import { benchUws } from './uws';

void (async () => {
  await benchUws();
  await benchFits();
  await benchTap();
})().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
