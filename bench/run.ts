/** `npm run bench`: every benchmark in turn. */
import { benchUws } from './uws';

void (async () => {
  await benchUws();
})().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
