/** `npm run migrate`: brings the job store schema up to date (npm start does it too). */
import { loadConfig } from '../shared/config';
import { JobStore } from '../shared/uws/store';

void (async () => {
  const store = await JobStore.open(loadConfig().databaseUrl);
  await store.close();
  console.log('job store up to date');
})();
