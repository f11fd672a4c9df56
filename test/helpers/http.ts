/** A small HTTP client for tests: real requests, redirects not followed, text bodies. */
export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  location: string | undefined;
}

export type Params = Record<string, string | string[]> | Array<[string, string]>;

function form(params: Params): URLSearchParams {
  const search = new URLSearchParams();
  const entries = Array.isArray(params)
    ? params
    : Object.entries(params).flatMap(([k, v]) =>
        Array.isArray(v) ? v.map((x) => [k, x] as [string, string]) : [[k, v] as [string, string]],
      );
  for (const [k, v] of entries) search.append(k, v);
  return search;
}

export class Client {
  constructor(
    readonly base: string,
    readonly headers: Record<string, string> = {},
  ) {}

  url(path: string): string {
    return path.startsWith('http') ? path : `${this.base}${path}`;
  }

  async request(method: string, path: string, body?: RequestInit['body'], headers: Record<string, string> = {}): Promise<Reply> {
    const response = await fetch(this.url(path), { method, body, headers: { ...this.headers, ...headers }, redirect: 'manual' });
    return {
      status: response.status,
      headers: response.headers,
      text: await response.text(),
      location: response.headers.get('location') ?? undefined,
    };
  }

  get(path: string, params?: Params): Promise<Reply> {
    const query = params ? `${path.includes('?') ? '&' : '?'}${form(params).toString()}` : '';
    return this.request('GET', `${path}${query}`);
  }

  post(path: string, params: Params = {}): Promise<Reply> {
    return this.request('POST', path, form(params).toString(), { 'content-type': 'application/x-www-form-urlencoded' });
  }

  delete(path: string): Promise<Reply> {
    return this.request('DELETE', path);
  }

  /** Creates a job and returns its URL (the 303 Location). */
  async create(service: string, params: Params): Promise<string> {
    const reply = await this.post(`/api/${service}/async`, params);
    if (reply.status !== 303 || !reply.location) throw new Error(`create answered ${reply.status}: ${reply.text}`);
    return reply.location;
  }

  async phase(jobUrl: string): Promise<string> {
    return (await this.get(`${jobUrl}/phase`)).text.trim();
  }

  /** Waits (with UWS WAIT) until the job leaves the active phases; returns the final phase. */
  async settle(jobUrl: string, timeoutMs = 20000): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const phase = await this.phase(jobUrl);
      if (!['PENDING', 'QUEUED', 'EXECUTING'].includes(phase) || Date.now() > end) return phase;
      await this.get(jobUrl, { WAIT: '5', PHASE: phase });
    }
  }
}

/** Children of the root element, as [name, attributes, text] in document order. */
export function elementSequence(xml: string, parent: string): string[] {
  const start = xml.indexOf(`<${parent}`);
  const inner = xml.slice(xml.indexOf('>', start) + 1, xml.lastIndexOf(`</${parent}>`));
  const names: string[] = [];
  let depth = 0;
  for (const match of inner.matchAll(/<(\/?)([A-Za-z_:][\w:.-]*)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (closing) depth--;
    else {
      if (depth === 0) names.push(name!);
      if (!selfClosing) depth++;
    }
  }
  return names;
}

/** Text of XML character data with the predefined entities and character references resolved. */
export function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) =>
    e === 'lt'
      ? '<'
      : e === 'gt'
        ? '>'
        : e === 'amp'
          ? '&'
          : e === 'quot'
            ? '"'
            : e === 'apos'
              ? "'"
              : String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1))),
  );
}

export function textOf(xml: string, element: string): string | undefined {
  const match = new RegExp(`<${element}(?:\\s[^>]*)?>([^<]*)</${element}>`).exec(xml);
  return match?.[1] === undefined ? undefined : unescapeXml(match[1]);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
