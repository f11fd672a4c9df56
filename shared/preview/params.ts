/**
 * Request parameters of picture output: RESPONSEFORMAT values that are images, and the display
 * parameters STRETCH, CUTS, CMAP and PREVIEW_SIZE.
 */
import { DaliError } from '../dali/errors';
import {
  type Colormap,
  type Cuts,
  DEFAULT_DISPLAY,
  type DisplayOptions,
  MAX_PREVIEW_SIZE,
  type PreviewFormat,
  type Stretch,
} from './types';

/**
 * RESPONSEFORMAT value → picture format, or null when it names no picture format. Accepted,
 * case-insensitively and with any media-type parameters (`;…`) and surrounding blanks ignored:
 * the registered media types image/png and image/jpeg, and the short forms png, jpeg and jpg
 * (DALI 1.1 §3.4.3 lets a service define short forms). The unregistered image/jpg is not one.
 */
export function previewFormatOf(responseFormat: string): PreviewFormat | null {
  const type = responseFormat.split(';', 1)[0]!.trim().toLowerCase();
  switch (type) {
    case 'image/png':
    case 'png':
      return 'png';
    case 'image/jpeg':
    case 'jpeg':
    case 'jpg':
      return 'jpeg';
    default:
      return null;
  }
}

export function contentTypeOf(format: PreviewFormat): string {
  return format === 'png' ? 'image/png' : 'image/jpeg';
}

/** The file name extension of a picture: png, jpg. */
export function fileExtensionOf(format: PreviewFormat): string {
  return format === 'png' ? 'png' : 'jpg';
}

/** The display parameters, upper-case, so callers can recognise them among a request's. */
export const DISPLAY_PARAMS = ['STRETCH', 'CUTS', 'CMAP', 'PREVIEW_SIZE'] as const;
const DISPLAY_NAMES: ReadonlySet<string> = new Set(DISPLAY_PARAMS);

export const STRETCHES: readonly Stretch[] = ['linear', 'asinh', 'log', 'sqrt'];
export const COLORMAPS: readonly Colormap[] = ['gray', 'viridis', 'inferno'];

/** `p<lo>,<hi>`: two plain decimal numbers (no sign, no exponent, no blanks). */
const PERCENTILE_CUTS = /^p(\d+(?:\.\d*)?|\.\d+),(\d+(?:\.\d*)?|\.\d+)$/;

function usage(detail: string): DaliError<'UsageError'> {
  return new DaliError('UsageError', detail);
}

function parseCuts(value: string): Cuts | null {
  const v = value.trim().toLowerCase();
  if (v === 'zscale') return { kind: 'zscale' };
  if (v === 'minmax') return { kind: 'minmax' };
  const m = PERCENTILE_CUTS.exec(v);
  if (!m) return null;
  const lo = Number(m[1]);
  const hi = Number(m[2]);
  return lo >= 0 && lo < hi && hi <= 100 ? { kind: 'percentile', lo, hi } : null;
}

/**
 * The display settings of a request. Parameter names are case-insensitive; values are too,
 * blanks around them ignored. Absent parameters take DEFAULT_DISPLAY's values (no maxSide).
 * Other parameters are ignored (callers decide about those). Each parameter may be given
 * once: a repeat is an error (as this service treats RESPONSEFORMAT), since a picture has
 * one look and silently taking the first or last value would hide a client's mistake.
 *
 *   STRETCH       linear | asinh | log | sqrt
 *   CUTS          zscale | minmax | p<lo>,<hi>  (percentiles, 0 ≤ lo < hi ≤ 100, e.g. p0.5,99.5)
 *   CMAP          gray | viridis | inferno
 *   PREVIEW_SIZE  an integer from 1 to MAX_PREVIEW_SIZE (4096): the largest side in pixels
 *
 * A bad value throws DaliError('UsageError', …) naming the parameter, the allowed values and
 * the value given.
 */
export function parseDisplayParams(params: readonly { name: string; value: string }[]): DisplayOptions {
  const given = new Map<string, string[]>();
  for (const { name, value } of params) {
    const key = name.toUpperCase();
    if (!DISPLAY_NAMES.has(key)) continue;
    const values = given.get(key);
    if (values) values.push(value);
    else given.set(key, [value]);
  }
  const single = (key: string): string | undefined => {
    const values = given.get(key);
    if (values && values.length > 1) throw usage(`${key} has ${values.length} values; give one`);
    return values?.[0];
  };
  const options: DisplayOptions = { stretch: DEFAULT_DISPLAY.stretch, cuts: { ...DEFAULT_DISPLAY.cuts }, cmap: DEFAULT_DISPLAY.cmap };

  /** A parameter whose value is one of `choices` (case-insensitive), if given. */
  const choice = <T extends string>(key: string, choices: readonly T[]): T | undefined => {
    const value = single(key);
    if (value === undefined) return undefined;
    const v = value.trim().toLowerCase();
    const found = choices.find((c) => c === v);
    if (!found) throw usage(`${key} must be one of ${choices.join(', ')}, not "${value}"`);
    return found;
  };

  options.stretch = choice('STRETCH', STRETCHES) ?? options.stretch;

  const cuts = single('CUTS');
  if (cuts !== undefined) {
    const parsed = parseCuts(cuts);
    if (!parsed) throw usage(`CUTS must be zscale, minmax or p<lo>,<hi> (percentiles, 0 <= lo < hi <= 100, e.g. p0.5,99.5), not "${cuts}"`);
    options.cuts = parsed;
  }

  options.cmap = choice('CMAP', COLORMAPS) ?? options.cmap;

  const size = single('PREVIEW_SIZE');
  if (size !== undefined) {
    const v = size.trim();
    const n = /^\d{1,9}$/.test(v) ? Number(v) : NaN;
    if (!(n >= 1 && n <= MAX_PREVIEW_SIZE)) throw usage(`PREVIEW_SIZE must be an integer from 1 to ${MAX_PREVIEW_SIZE}, not "${size}"`);
    options.maxSide = n;
  }
  return options;
}
