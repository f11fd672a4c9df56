/**
 * The one layout of the browser pages and how they are sent. Every value that is not a
 * literal of this file goes through `esc` (shared/xml's escapeXml: & < > " ' are escaped, so
 * it is safe in element content and in quoted attributes). Pages carry no inline script or
 * style: data reaches the served scripts in escaped data-* attributes, which the
 * Content-Security-Policy below enforces (scripts and styles from this origin only).
 */
import type { Request, Response } from 'express';
import type { Config } from '../../shared/config';
import { escapeXml } from '../../shared/xml';
import { ownerOf } from '../auth';
import { baseUrl } from '../http/base-url';

export const esc = escapeXml;

/**
 * Scripts, styles, images, fetches and form targets from this origin only; no plugins, no
 * <base>, no framing (clickjacking of the phase and delete buttons).
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
  "form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'";

/** What every page needs of its request: where links point, and who is signed in. */
export interface PageContext {
  /** Base URL of links (PUBLIC_URL or the request's scheme and host). */
  base: string;
  owner: string | null;
  /** AUTH_TOKENS is set: the pages show the sign-in state. */
  auth: boolean;
}

export function pageContext(config: Config, req: Request, res: Response): PageContext {
  return { base: baseUrl(config, req), owner: ownerOf(res), auth: config.authTokens !== undefined };
}

export interface Page {
  title: string;
  /** HTML, already escaped where needed. */
  body: string;
  /** Scripts of api/pages/static, by file name (loaded as modules, deferred). */
  scripts?: readonly string[];
  /** The nav entry to mark as current. */
  section?: 'home' | 'tap' | 'cutout' | 'sia' | 'bulk' | 'jobs' | 'login';
}

const NAV: readonly { section: NonNullable<Page['section']>; path: string; label: string }[] = [
  { section: 'home', path: '/', label: 'Home' },
  { section: 'tap', path: '/api/tap', label: 'TAP query' },
  { section: 'cutout', path: '/api/cutout', label: 'Cutout' },
  { section: 'sia', path: '/api/sia', label: 'Image search' },
  { section: 'bulk', path: '/api/bulk', label: 'Bulk cutouts' },
  { section: 'jobs', path: '/api/bulk/async', label: 'Jobs' },
];

/** A static file of api/pages/static, as the pages link it. */
export function assetUrl(ctx: PageContext, file: string): string {
  return `${ctx.base}/pages/static/${file}`;
}

function signInState(ctx: PageContext): string {
  if (!ctx.auth) return '';
  if (ctx.owner === null) return `<a class="signin" href="${esc(`${ctx.base}/pages/login`)}">Sign in</a>`;
  return (
    `<form class="signout" method="post" action="${esc(`${ctx.base}/pages/logout`)}">` +
    `<span>Signed in as <b class="owner">${esc(ctx.owner)}</b></span> <button type="submit">Sign out</button></form>`
  );
}

export function renderPage(ctx: PageContext, page: Page): string {
  const nav = NAV.map(
    (n) => `<a href="${esc(ctx.base + n.path)}"${n.section === page.section ? ' aria-current="page"' : ''}>${esc(n.label)}</a>`,
  ).join('');
  const scripts = (page.scripts ?? []).map((s) => `<script type="module" src="${esc(assetUrl(ctx, s))}"></script>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${esc(CONTENT_SECURITY_POLICY.replace(/; frame-ancestors[^;]*$/, ''))}">
<title>${esc(page.title)} · VO image services</title>
<link rel="stylesheet" href="${esc(assetUrl(ctx, 'site.css'))}">
<link rel="icon" href="data:,">
${scripts}
</head><body data-base="${esc(ctx.base)}">
<header><a class="brand" href="${esc(`${ctx.base}/`)}">VO image services</a><nav>${nav}</nav>${signInState(ctx)}</header>
<main>
${page.body}
</main>
</body></html>
`;
}

/**
 * Sends a page: the policy also as a header (frame-ancestors works only there), never cached
 * (pages show live phases and one owner's jobs), and no Referer to other sites.
 */
export function sendPage(res: Response, status: number, html: string): void {
  res.status(status);
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'same-origin');
  res.end(html);
}

/** A size for people: 1.2 MB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** An instant as UTC text, to the second, in a <time> element. */
export function timeHtml(ms: number | null): string {
  if (ms === null) return '<span class="none">—</span>';
  const iso = new Date(ms).toISOString();
  return `<time datetime="${esc(iso)}">${esc(iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))}</time>`;
}

/** A URL with query parameters, encoded (values are arbitrary text). */
export function withQuery(url: string, params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) search.append(k, v);
  const query = search.toString().replace(/\+/g, '%20');
  return query === '' ? url : `${url}${url.includes('?') ? '&' : '?'}${query}`;
}
