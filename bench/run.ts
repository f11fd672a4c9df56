/** `npm run bench`: every benchmark in turn. */
import { benchFits } from './fits';
import { benchUws } from './uws';

void (async () => {
  await benchUws();
  await benchFits();
})().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
