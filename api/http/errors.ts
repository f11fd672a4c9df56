/** Errors raised while handling a request, answered with their status and plain text. */
import type { NextFunction, Request, Response } from 'express';
import { votableErrorDocument } from '../../shared/dali/error-document';
import type { Logger } from '../../shared/log';

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** A message for people (errors, notices): plain text ending with a newline. */
export function sendText(res: Response, status: number, text: string): void {
  res
    .status(status)
    .type('text/plain; charset=utf-8')
    .send(text.endsWith('\n') ? text : `${text}\n`);
}

/**
 * A UWS atomic value (phase, executionduration, destruction, quote, owner, a parameter;
 * UWS 1.1 §2.2.1): 200 text/plain with exactly these bytes and no newline added, since
 * clients and the UWS validator compare the body with the value.
 */
export function sendValue(res: Response, value: string): void {
  res.status(200).type('text/plain; charset=utf-8').send(value);
}

/** What `send` (behind res.sendFile) passes to the callback: http-errors with a status. */
interface SendError extends Error {
  status?: number;
  headers?: Record<string, string>;
}

/**
 * Streams a file with the given content type; a file that has gone missing answers 404, and
 * a Range of which no byte exists 416 with the unsatisfied-range Content-Range, `bytes`, a
 * star, a slash and the size (RFC 9110 §15.5.17, §14.4). An error after the headers went
 * out can only abort the response.
 */
export function sendFileOr404(
  res: Response,
  file: string,
  contentType: string,
  missing: string,
  part?: { offset: number; size: number },
): Promise<void> {
  // Exactly as given (DALI 1.1 §3.4.3 echoes a requested media type; Express would add a charset).
  res.setHeader('Content-Type', contentType);
  // A part of a shared file (a ResultPack member) is served as if it were the whole file.
  const window = part ? { start: part.offset, end: part.offset + part.size - 1 } : {};
  return new Promise<void>((resolve, reject) =>
    res.sendFile(file, { dotfiles: 'allow', ...window }, (err?: SendError) => {
      if (!err) return resolve();
      if (res.headersSent) return reject(err);
      // send has computed the size (of the window, for a part) into its Content-Range.
      const range = err.headers?.['Content-Range'];
      if (err.status === 416 && range !== undefined)
        return reject(
          new HttpError(416, `range not satisfiable: the file has ${range.slice('bytes */'.length)} bytes`, { 'Content-Range': range }),
        );
      reject(new HttpError(404, missing));
    }),
  );
}

/** A document with exactly this Content-Type (no charset added, unlike Express's res.type). */
export function sendDocument(res: Response, status: number, contentType: string, body: string): void {
  res.status(status).setHeader('Content-Type', contentType);
  res.end(body);
}

/** A DALI error document (TAP, DataLink, SIA): a VOTable with QUERY_STATUS ERROR. */
export function sendVotableError(res: Response, status: number, message: string): void {
  const document = votableErrorDocument(message);
  sendDocument(res, status, document.contentType, document.body);
}

/**
 * Router-level error handler of a service whose errors have a format of their own (VOTable,
 * SODA text/plain): known errors in that format with their status, anything else logged and
 * a 500 in that format.
 */
export function protocolErrorHandler(log: Logger, send: (res: Response, status: number, message: string) => void) {
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(err);
    if (err instanceof HttpError) return send(res, err.status, err.message);
    log.error({ err, method: req.method, url: req.originalUrl }, 'request failed');
    send(res, 500, 'internal server error');
  };
}

/** Last handler: known errors as plain text with their status; anything else is logged and a 500. */
export function errorHandler(log: Logger) {
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) {
      next(err);
      return;
    }
    if (err instanceof HttpError) {
      for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
      sendText(res, err.status, err.message);
      return;
    }
    log.error({ err, method: req.method, url: req.originalUrl }, 'request failed');
    sendText(res, 500, 'Error: internal server error');
  };
}
