/**
 * The chaos clients' HTTP: one fresh connection per request (no keep-alive socket reused
 * across an api restart, so every failure is the server's), to 127.0.0.1 only, each request
 * with a hard client-side deadline: a request that outlives it is a hang.
 */
import http from 'node:http';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  ms: number;
}

export type FailureKind = 'timeout' | 'refused' | 'reset' | 'other';

/** A request that got no complete answer. */
export class RequestFailed extends Error {
  override name = 'RequestFailed';
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly ms: number,
  ) {
    super(message);
  }
}

export interface RequestOptions {
  method?: string;
  /** application/x-www-form-urlencoded body. */
  form?: ReadonlyArray<readonly [string, string]>;
  token?: string;
  timeoutMs: number;
}

export function query(params: ReadonlyArray<readonly [string, string]>): string {
  return new URLSearchParams(params.map(([k, v]): [string, string] => [k, v])).toString();
}

export function request(port: number, path: string, options: RequestOptions): Promise<Reply> {
  const started = Date.now();
  const body = options.form ? Buffer.from(query(options.form)) : undefined;
  const headers: http.OutgoingHttpHeaders = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (body) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers['content-length'] = body.length;
  }
  return new Promise((resolve, reject) => {
    let done = false;
    const fail = (kind: FailureKind, message: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      reject(new RequestFailed(kind, message, Date.now() - started));
    };
    const req = http.request(
      { host: '127.0.0.1', port, method: options.method ?? (body ? 'POST' : 'GET'), path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err: NodeJS.ErrnoException) => fail(kindOf(err), `response: ${err.code ?? err.message}`));
        res.on('aborted', () => fail('reset', 'response aborted before its end'));
        res.on('end', () => {
          if (done) return;
          if (!res.complete) {
            fail('reset', 'response ended before its end');
            return;
          }
          done = true;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ms: Date.now() - started });
        });
      },
    );
    const timer = setTimeout(() => fail('timeout', `no complete answer within ${options.timeoutMs} ms`), options.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => fail(kindOf(err), err.code ?? err.message));
    req.end(body);
  });
}

function kindOf(err: NodeJS.ErrnoException): FailureKind {
  if (err.code === 'ECONNREFUSED') return 'refused';
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.message === 'socket hang up') return 'reset';
  return 'other';
}

/** The phase of a UWS job document. */
export function phaseOf(xml: string): string | undefined {
  return /<uws:phase>([A-Z]+)<\/uws:phase>/.exec(xml)?.[1];
}

export interface ListedResult {
  id: string;
  href: string;
  size: number;
  mimeType: string;
}

/** The results listed in a UWS job or results document. */
export function resultsOf(xml: string): ListedResult[] {
  return [...xml.matchAll(/<uws:result id="([^"]*)"[^>]*xlink:href="([^"]*)"[^>]*size="(\d+)"[^>]*mime-type="([^"]*)"/g)].map((m) => ({
    id: m[1]!,
    href: m[2]!.replace(/&amp;/g, '&'),
    size: Number(m[3]),
    mimeType: m[4]!.replace(/&amp;/g, '&'),
  }));
}

export function errorMessageOf(xml: string): string | undefined {
  const m = /<uws:message>([\s\S]*?)<\/uws:message>/.exec(xml);
  return m?.[1]
    ?.replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** Job references of a job list: id and phase. */
export function jobRefsOf(xml: string): { id: string; phase: string }[] {
  return [...xml.matchAll(/<uws:jobref id="([^"]*)"[^>]*>\s*<uws:phase>([A-Z]+)<\/uws:phase>/g)].map((m) => ({ id: m[1]!, phase: m[2]! }));
}
