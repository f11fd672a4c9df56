/**
 * /pages: the pages' static files (api/pages/static: one style sheet and a few plain browser
 * scripts, served as they are, nothing built) and the browser sign-in (api/auth.ts): a token
 * form that sets the session cookie, and sign-out. The pages themselves are answered at the
 * service and job URLs by content negotiation (api/pages/negotiate.ts).
 */
import path from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Config } from '../../shared/config';
import { PROJECT_ROOT } from '../../shared/runtime';
import { BrowserSessions, fromOwnOrigin, localPath, sessionCookie, sessionSetCookie } from '../auth';
import { baseUrl } from '../http/base-url';
import { paramLimits, readParams } from '../http/params';
import { esc, pageContext, renderPage, sendPage, type PageContext } from './html';
import { wantsPage } from './negotiate';

/** Where the static files are: in the source tree, also when the api runs from dist/. */
export const STATIC_DIR = path.join(PROJECT_ROOT, 'api', 'pages', 'static');

function loginPage(ctx: PageContext, next: string | undefined, problem?: string): string {
  let body: string;
  if (!ctx.auth) {
    body = `<h1>Sign in</h1><p>This server runs without authentication (<code>AUTH_TOKENS</code> is not set): every page is open.</p>`;
  } else {
    const state = ctx.owner === null ? '' : `<p>You are signed in as <b class="owner">${esc(ctx.owner)}</b>.</p>`;
    body = `<h1>Sign in</h1>
${state}
<p>Paste your access token: the one pyvo and curl send as <code>Authorization: Bearer &lt;token&gt;</code>.
This browser then keeps a session cookie for this site only (no script can read it), for 8 hours or until you sign out.</p>
${problem === undefined ? '' : `<p class="problem">${esc(problem)}</p>`}
<form class="stack narrow" method="post" action="${esc(`${ctx.base}/pages/login`)}">
<label>Token <input type="password" name="token" required autocomplete="current-password" autofocus></label>
${next === undefined ? '' : `<input type="hidden" name="next" value="${esc(next)}">`}
<button type="submit">Sign in</button>
</form>`;
  }
  return renderPage(ctx, { title: 'Sign in', body, section: 'login' });
}

export function pagesRouter(config: Config): Router {
  const router = express.Router();
  const limits = paramLimits(config);
  const sessions = config.authTokens && new BrowserSessions(config.authTokens, config.signingKey);
  const context = (req: Request): PageContext => ({
    base: baseUrl(config, req),
    owner: (sessions && sessions.owner(sessionCookie(req))) ?? null,
    auth: config.authTokens !== undefined,
  });

  router.use(
    '/static',
    (_req: Request, res: Response, next: NextFunction) => {
      res.setHeader('X-Content-Type-Options', 'nosniff');
      next();
    },
    // A missing file falls through to the api's 404.
    express.static(STATIC_DIR, { index: false, dotfiles: 'ignore', redirect: false }),
  );

  router.get('/login', async (req, res) => {
    const params = await readParams(req, limits);
    await params.discardFiles();
    sendPage(res, 200, loginPage(context(req), localPath(params.get('next'))));
  });
  router.post('/login', async (req, res) => {
    const params = await readParams(req, limits);
    await params.discardFiles();
    // Login CSRF: another site must not sign this browser in as someone else.
    if (!fromOwnOrigin(config, req)) {
      sendPage(res, 403, loginPage(context(req), undefined, 'This form must be sent from this service’s own page.'));
      return;
    }
    const next = localPath(params.get('next'));
    const token = params.get('token')?.trim() ?? '';
    if (!sessions || !config.authTokens?.has(token)) {
      sendPage(res, sessions ? 401 : 404, loginPage(context(req), next, sessions ? 'Unknown token.' : undefined));
      return;
    }
    res.setHeader('Set-Cookie', sessionSetCookie(config, req, sessions.create(token)));
    res.status(303).setHeader('Location', `${baseUrl(config, req)}${next ?? '/'}`);
    res.end();
  });
  router.post('/logout', async (req, res) => {
    const params = await readParams(req, limits);
    await params.discardFiles();
    if (fromOwnOrigin(config, req)) res.setHeader('Set-Cookie', sessionSetCookie(config, req, undefined));
    res.status(303).setHeader('Location', `${baseUrl(config, req)}/`);
    res.end();
  });
  return router;
}

/**
 * A handler of a service URL (e.g. /api/tap): the service's form page for browsers; other
 * clients go on to what answered before (the 404).
 */
export function servicePage(config: Config, render: (ctx: PageContext, values: (name: string) => string | undefined) => string) {
  const limits = paramLimits(config);
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (!wantsPage(req, res)) {
      next();
      return;
    }
    const params = await readParams(req, limits);
    await params.discardFiles();
    sendPage(
      res,
      200,
      render(pageContext(config, req, res), (n) => params.get(n)),
    );
  };
}
