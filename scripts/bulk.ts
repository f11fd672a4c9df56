/**
 * npm run bulk -- <positions.csv|.tsv|.xml> [--size 64] [--bands g,r,i] [--out dir]
 *                 [--url http://host:8080] [--token …] [--param NAME=VALUE …]
 *
 * Submits a bulk cutout batch (/api/bulk/async), shows its progress (a bar on a terminal,
 * plain lines otherwise) from WAIT and the job's jobInfo, downloads the archive (tar) and
 * unpacks it into --out, then prints how many stamps ended in each status. Exits 0 when the
 * job COMPLETED, 1 when it ended in ERROR or ABORTED, 2 for a usage or connection problem.
 * Running it again with the same --out and the same table picks up the same job and resumes
 * the download where it stopped (HTTP Range), instead of starting over.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { extractTar } from '../shared/archive/untar';
import { parseRecords } from '../shared/bulk/positions';

const USAGE =
  'usage: npm run bulk -- <positions.csv|.tsv|.xml> [--size N] [--bands g,r,i] [--out dir] [--url http://host:port] [--token T] [--param NAME=VALUE ...]';
const STATE_FILE = '.bulk-job.json';
const ARCHIVE = 'archive.tar';
const COMMA = 0x2c;

class UsageError extends Error {}

interface Options {
  table: string;
  size?: string;
  bands: string[];
  out: string;
  url: string;
  token?: string;
  params: [string, string][];
}

function options(argv: string[]): Options {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      size: { type: 'string' },
      bands: { type: 'string' },
      out: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      param: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length !== 1) throw new UsageError(USAGE);
  const table = path.resolve(positionals[0]!);
  if (!fs.existsSync(table)) throw new UsageError(`no such file: ${table}`);
  const params = (values.param ?? []).map((p): [string, string] => {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param wants NAME=VALUE, not ${p}`);
    return [p.slice(0, eq), p.slice(eq + 1)];
  });
  return {
    table,
    size: values.size,
    bands: (values.bands ?? '')
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
    out: path.resolve(values.out ?? `bulk-${path.basename(table).replace(/\.[^.]*$/, '')}`),
    url: (values.url ?? process.env.BULK_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, ''),
    token: values.token ?? process.env.BULK_TOKEN,
    params,
  };
}

class Service {
  constructor(private readonly opts: Options) {}

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.opts.token) headers.set('Authorization', `Bearer ${this.opts.token}`);
    try {
      return await fetch(url, { ...init, headers, redirect: 'manual' });
    } catch (err) {
      throw new UsageError(`cannot reach ${url}: ${(err as Error).message}`);
    }
  }

  async submit(bytes: Buffer): Promise<string> {
    const { opts } = this;
    const body = new FormData();
    body.append('UPLOAD', 'positions,param:positions');
    if (opts.size) body.append('SIZE', opts.size);
    for (const band of opts.bands) body.append('BAND', band);
    for (const [name, value] of opts.params) body.append(name, value);
    body.append('PACKAGE', 'tar');
    body.append('PHASE', 'RUN');
    const type = /\.(xml|vot)$/i.test(opts.table) ? 'application/x-votable+xml' : 'text/csv';
    body.append('positions', new Blob([bytes], { type }), path.basename(opts.table));
    const reply = await this.request(`${opts.url}/api/bulk/async`, { method: 'POST', body });
    const location = reply.headers.get('location');
    if (reply.status !== 303 || !location)
      throw new UsageError(`the service refused the batch (${reply.status}): ${(await reply.text()).trim()}`);
    return location;
  }
}

interface Progress {
  phase: string;
  percent?: number;
  done?: number;
  total?: number;
  ok?: number;
  failed?: number;
  end?: string;
  message?: string;
}

function progressOf(xml: string): Progress {
  const text = (tag: string) => new RegExp(`<(?:uws:)?${tag}>([^<]*)</(?:uws:)?${tag}>`).exec(xml)?.[1];
  const num = (tag: string) => (text(tag) === undefined ? undefined : Number(text(tag)));
  return {
    phase: text('phase') ?? 'UNKNOWN',
    percent: num('percentComplete'),
    done: num('itemsProcessed'),
    total: num('totalItems'),
    ok: num('itemsOk'),
    failed: num('itemsFailed'),
    end: text('estimatedEnd'),
    message: text('message'),
  };
}

/** One line of progress: a bar on a terminal. */
function progressLine(p: Progress, tty: boolean): string {
  const counts = p.total === undefined ? '' : ` ${p.done ?? 0}/${p.total} stamps (ok ${p.ok ?? 0}, failed ${p.failed ?? 0})`;
  const eta = p.end ? ` ETA ${Math.max(0, Math.round((Date.parse(p.end) - Date.now()) / 1000))} s` : '';
  const percent = p.percent === undefined ? '' : ` ${p.percent.toFixed(1)}%`;
  if (!tty) return `${p.phase}${percent}${counts}${eta}`;
  const width = 30;
  const filled = Math.round(((p.percent ?? 0) / 100) * width);
  return `${p.phase.padEnd(9)} [${'#'.repeat(filled)}${' '.repeat(width - filled)}]${percent}${counts}${eta}`;
}

/** Follows the job until it ends: WAIT returns at once on a phase change, else after a second. */
async function watch(service: Service, job: string): Promise<Progress> {
  const tty = process.stdout.isTTY === true;
  let lastLine = '';
  let lastPrint = 0;
  for (;;) {
    const reply = await service.request(`${job}?WAIT=1`);
    if (reply.status !== 200) throw new UsageError(`the job ${job} answered ${reply.status}: ${(await reply.text()).trim()}`);
    const progress = progressOf(await reply.text());
    const line = progressLine(progress, tty);
    const final = !['PENDING', 'QUEUED', 'EXECUTING', 'HELD', 'SUSPENDED'].includes(progress.phase);
    if (tty) process.stdout.write(`\r${line}\x1b[K${final ? '\n' : ''}`);
    else if (final || (line !== lastLine && Date.now() - lastPrint > 5000)) {
      console.log(line);
      lastPrint = Date.now();
    }
    lastLine = line;
    if (progress.phase === 'PENDING')
      await service.request(`${job}/phase`, { method: 'POST', body: new URLSearchParams({ PHASE: 'RUN' }) });
    if (final) return progress;
  }
}

/** Downloads `url` to `file`, resuming a partial download (`file`.part) with a Range request. */
async function download(service: Service, url: string, file: string): Promise<void> {
  const partial = `${file}.part`;
  if (fs.existsSync(file)) return;
  const have = fs.existsSync(partial) ? fs.statSync(partial).size : 0;
  const reply = await service.request(url, have > 0 ? { headers: { Range: `bytes=${have}-` } } : {});
  if (reply.status === 416) {
    // Nothing left past what we have: whole if it is exactly the archive's size, else start over.
    const size = Number(/\/(\d+)$/.exec(reply.headers.get('content-range') ?? '')?.[1]);
    if (size === have) fs.renameSync(partial, file);
    else {
      fs.rmSync(partial);
      await download(service, url, file);
    }
    return;
  }
  if (reply.status !== 200 && reply.status !== 206) throw new UsageError(`downloading ${url} answered ${reply.status}`);
  if (have > 0 && reply.status === 206) console.log(`resuming the download at byte ${have}`);
  const out = fs.createWriteStream(partial, { flags: reply.status === 206 ? 'a' : 'w' });
  const total = Number(reply.headers.get('content-length') ?? 0) + (reply.status === 206 ? have : 0);
  let written = reply.status === 206 ? have : 0;
  let shown = 0;
  for await (const chunk of reply.body as unknown as AsyncIterable<Uint8Array>) {
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    written += chunk.length;
    if (process.stdout.isTTY && Date.now() - shown > 200) {
      process.stdout.write(`\rdownloading ${(written / 2 ** 20).toFixed(1)} / ${(total / 2 ** 20).toFixed(1)} MiB\x1b[K`);
      shown = Date.now();
    }
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  if (process.stdout.isTTY) process.stdout.write('\n');
  if (total > 0 && fs.statSync(partial).size !== total) throw new UsageError(`the download of ${url} stopped early: run again to resume`);
  fs.renameSync(partial, file);
}

/** Stamps per status in the manifest (manifest.csv, RFC 4180: read as positions tables are). */
export function statusCounts(csv: string): Map<string, number> {
  const counts = new Map<string, number>();
  let status = -1;
  parseRecords(csv, COMMA, (fields) => {
    if (status < 0) status = fields.indexOf('status');
    else if (fields.length > 1) counts.set(fields[status] ?? '', (counts.get(fields[status] ?? '') ?? 0) + 1);
  });
  return counts;
}

async function main(argv: string[]): Promise<number> {
  const opts = options(argv);
  const service = new Service(opts);
  fs.mkdirSync(opts.out, { recursive: true });
  const bytes = fs.readFileSync(opts.table);
  const input = createHash('sha256')
    .update(bytes)
    .update(JSON.stringify([opts.url, opts.size, opts.bands, opts.params]))
    .digest('hex');
  const stateFile = path.join(opts.out, STATE_FILE);
  const state = fs.existsSync(stateFile) ? (JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { job: string; input: string }) : undefined;
  let job: string | undefined;
  // The same table again: the same job, unless it is gone or ended without results to fetch.
  const previous = state?.input === input ? await service.request(state.job) : undefined;
  const usable = previous?.status === 200 && !/<uws:phase>(ERROR|ABORTED)</.test(await previous.text());
  if (usable && state) {
    job = state.job;
    console.log(`continuing ${job}`);
  } else {
    if (fs.existsSync(path.join(opts.out, `${ARCHIVE}.part`))) fs.rmSync(path.join(opts.out, `${ARCHIVE}.part`));
    fs.rmSync(path.join(opts.out, ARCHIVE), { force: true });
    job = await service.submit(bytes);
    fs.writeFileSync(stateFile, JSON.stringify({ job, input }));
    console.log(`submitted ${job}`);
  }
  const end = await watch(service, job);
  if (end.phase !== 'COMPLETED') {
    const error = await service.request(`${job}/error`);
    console.error(`the job ended ${end.phase}${error.status === 200 ? `: ${(await error.text()).trim()}` : ''}`);
    return 1;
  }
  await download(service, `${job}/results/archive`, path.join(opts.out, ARCHIVE));
  const members = extractTar(path.join(opts.out, ARCHIVE), opts.out);
  const counts = statusCounts(fs.readFileSync(path.join(opts.out, 'manifest.csv'), 'utf8'));
  const stampCount = members.filter((name) => name.startsWith('stamps/')).length;
  const pictures = members.filter((name) => name.startsWith('previews/')).length;
  console.log(`${stampCount} stamps${pictures > 0 ? `, ${pictures} pictures` : ''} and manifest.csv in ${opts.out}`);
  console.log([...counts].map(([status, n]) => `${status}: ${n}`).join(', '));
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(err instanceof UsageError ? err.message : (err.stack ?? String(err)));
      process.exit(2);
    },
  );
}
