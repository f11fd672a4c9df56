/**
 * The parameters of a bulk job (many cutouts of one kind: one per position of a table or of the
 * POSITION list, in every band asked for) → a typed, normalised request. Pure: the api and the
 * job processor hand over the parameters as stored; fetching an UPLOAD is done elsewhere.
 *
 * Parameter names are case-insensitive, values case-sensitive (DALI 1.1 §3.1); the keyword
 * values of this service (SIZE_UNIT, MATCH, EDGE, PLANES, PACKAGE, DRYRUN, band letters, and
 * the picture parameters PREVIEW, RGB, STRETCH, CUTS, CMAP) are also read regardless of case,
 * since no two of them differ only in case. A blank value counts as not given (as SODA's
 * parser does: forms send every field). Every rejection is a SodaError
 * (SODA 1.0 §5.2): `UsageError: …` naming the parameter and echoing the value, or
 * `MultiValuedParamNotSupported: …` for a repeated single-valued parameter.
 *
 * Defaults: a value in a row of the positions table overrides the job's, which overrides the
 * service's (BULK_DEFAULTS).
 */
import { parseInterval, type Interval } from '../dali/interval';
import { LSST_BANDS } from '../obscore/bands';
import { DISPLAY_PARAMS, previewFormatOf, type DisplayOptions, type PreviewFormat } from '../preview';
import { SodaError } from '../soda/errors';
import { parseSodaDisplay } from '../soda/params';
import { quoted, usage } from './errors';

/** One job parameter as the api and the UWS store keep it; byReference ones are uploaded files. */
export interface BulkParam {
  readonly name: string;
  readonly value: string;
  /** An inline upload (UWS 1.1 §2.1.11): the file an `UPLOAD=positions,param:<name>` points at. */
  readonly byReference?: boolean;
}

export const SIZE_UNITS = ['pix', 'arcsec', 'deg'] as const;
export type SizeUnit = (typeof SIZE_UNITS)[number];

export const MATCH_MODES = ['best', 'all'] as const;
/** best: one image per position and band (the deepest / best-covering one); all: every image that covers it. */
export type MatchMode = (typeof MATCH_MODES)[number];

export const EDGE_MODES = ['clip', 'pad', 'skip'] as const;
/** What to do with a stamp that runs over the image edge: cut it short, pad it to full size, or leave it out. */
export type EdgeMode = (typeof EDGE_MODES)[number];

/** Image planes of an LSST calexp/coadd, in the order results hold them. */
export const PLANES = ['IMAGE', 'MASK', 'VARIANCE'] as const;
export type Plane = (typeof PLANES)[number];

export const PACKAGINGS = ['zip', 'tar', 'none'] as const;
/** zip or tar: one archive; none: one FITS result per stamp. */
export type Packaging = (typeof PACKAGINGS)[number];

export const BAND_LETTERS = ['u', 'g', 'r', 'i', 'z', 'y'] as const;
export type BandLetter = (typeof BAND_LETTERS)[number];

export interface BulkSize {
  /** Length of a side of the (square) stamp, in `unit`; > 0, and a whole number for pix. */
  readonly value: number;
  readonly unit: SizeUnit;
}

/**
 * A wavelength band, in metres (lo ≤ hi, ±Infinity for an open side): an LSST filter letter or
 * a DALI 1.1 §3.3.4 interval. `label` names it in file names: the letter, or the bounds in
 * units of 1e-9 m (`550e-9_700e-9`, `-Inf_700e-9`), only [A-Za-z0-9._-] characters.
 */
export interface BulkBand extends Interval {
  readonly kind: 'letter' | 'interval';
  readonly label: string;
}

export interface SkyPosition {
  /** Right ascension in degrees, in [0, 360). */
  readonly ra: number;
  /** Declination in degrees, in [-90, 90]. */
  readonly dec: number;
}

/** Where the positions table is: a part of the job's request (`param:<part>`) or a URL. */
export type UploadLocation =
  | {
      readonly kind: 'part';
      /** The part's name, upper-cased as the api keeps uploaded parts' names. */
      readonly part: string;
    }
  | { readonly kind: 'url'; readonly url: string };

export type BulkSource =
  | {
      readonly kind: 'upload';
      /** The URI as given (after `positions,`). */
      readonly uri: string;
      readonly location: UploadLocation;
    }
  | { readonly kind: 'positions'; readonly positions: readonly SkyPosition[] };

/** RA_COL, DEC_COL, ID_COL: the columns of the positions table to read; undefined = found by name. */
export interface BulkColumns {
  readonly ra?: string;
  readonly dec?: string;
  readonly id?: string;
}

/** PREVIEW: a picture of each stamp's IMAGE plane, drawn with the display parameters. */
export interface BulkPreview {
  readonly format: PreviewFormat;
  /** STRETCH, CUTS, CMAP and PREVIEW_SIZE (shared/preview's defaults for those not given). */
  readonly display: DisplayOptions;
}

/** RGB: one Lupton colour composite per input row of its stamps in three bands. */
export interface BulkRgb {
  /** Band letters, red, green, blue: three different ones, each among the job's bands. */
  readonly bands: readonly [BandLetter, BandLetter, BandLetter];
  /** PREVIEW's format, png when PREVIEW is not given. */
  readonly format: PreviewFormat;
  /** PREVIEW_SIZE. */
  readonly maxSide?: number;
}

export interface BulkRequest {
  readonly size: BulkSize;
  /** Without repeats, in the order given; every LSST band when BAND is not given. */
  readonly bands: readonly BulkBand[];
  readonly dpsubtype: string;
  /** undefined: any collection. */
  readonly collection: string | undefined;
  /** An MJD interval; undefined: any time. */
  readonly time: Interval | undefined;
  readonly match: MatchMode;
  readonly edge: EdgeMode;
  /** Without repeats, in the order IMAGE, MASK, VARIANCE. */
  readonly planes: readonly Plane[];
  readonly packaging: Packaging;
  readonly dryRun: boolean;
  readonly columns: BulkColumns;
  readonly source: BulkSource;
  /** Absent: no per-stamp pictures. */
  readonly preview?: BulkPreview;
  /** Absent: no colour composites. */
  readonly rgb?: BulkRgb;
}

export interface BulkParamLimits {
  /** Most POSITION values one job may give (BULK_MAX_POSITIONS). */
  readonly maxPositions: number;
}

/** Different BAND values one batch may ask for. */
export const MAX_BANDS = 32;

/** The service's defaults, which a job's parameters (and then a row's values) override. */
export const BULK_DEFAULTS = {
  size: { value: 64, unit: 'pix' } satisfies BulkSize,
  dpsubtype: 'lsst.deepCoadd_calexp',
  match: 'best',
  edge: 'pad',
  planes: ['IMAGE'],
  packaging: 'zip',
  dryRun: false,
} as const satisfies Partial<BulkRequest>;

/** Parameters a job takes once (a repeat is MultiValuedParamNotSupported, SODA 1.0 §5.2). */
const SINGLE = [
  'UPLOAD',
  'SIZE',
  'SIZE_UNIT',
  'DPSUBTYPE',
  'COLLECTION',
  'TIME',
  'MATCH',
  'EDGE',
  'PACKAGE',
  'DRYRUN',
  'RA_COL',
  'DEC_COL',
  'ID_COL',
  'REQUEST',
  'VERSION',
  'RESPONSEFORMAT',
  'PREVIEW',
  'RGB',
  ...DISPLAY_PARAMS,
] as const;
/** Parameters that may be repeated. */
const MULTIPLE = ['POSITION', 'BAND', 'PLANES'] as const;
/** UWS 1.1 §2.2.3 job control and RUNID: the UWS layer's business, not this parser's. */
const UWS_PARAMS = ['RUNID', 'PHASE', 'ACTION', 'EXECUTIONDURATION', 'DESTRUCTION'] as const;

type SingleName = (typeof SINGLE)[number];
type MultipleName = (typeof MULTIPLE)[number];
type KnownName = SingleName | MultipleName;

const KNOWN: ReadonlySet<string> = new Set<string>([...SINGLE, ...MULTIPLE]);
const IGNORED: ReadonlySet<string> = new Set<string>(UWS_PARAMS);

/** A decimal number as DALI 1.1 §3.2 writes them (no hex, no `Infinity`, no empty text). */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The number a trimmed decimal text stands for (possibly ±Infinity when it overflows), or undefined. */
export function parseDecimal(text: string): number | undefined {
  return DECIMAL.test(text) ? Number(text) : undefined;
}

/** Right ascension into [0, 360) (360 and -0 become 0). */
export function normaliseRa(ra: number): number {
  // Values in range are kept exactly (10.6847 + 360 - 360 is 10.68470000000002).
  if (ra >= 0 && ra < 360) return ra + 0;
  const wrapped = ((ra % 360) + 360) % 360;
  // A tiny negative ra wraps to 360 - ε, which rounds to 360.
  return wrapped === 360 ? 0 : wrapped + 0;
}

/** `550e-9`: a bound of a band label, in units of 1e-9 m so that visible light reads as nanometres. */
function boundLabel(metres: number): string {
  if (metres === Infinity) return 'Inf';
  if (metres === -Infinity) return '-Inf';
  if (metres === 0) return '0';
  // 12 significant digits: 550e-9 * 1e9 is 550.0000000000001 in doubles.
  return `${Number((metres * 1e9).toPrecision(12))}e-9`;
}

/**
 * A band as a BAND value or a positions table's band cell writes it: an LSST filter letter
 * (any case), or a DALI 1.1 §3.3.4 interval `lo hi` in metres (bounds ≥ 0, -Inf allowed).
 * `what` names the parameter or column in messages; throws a UsageError.
 */
export function parseBand(text: string, what: string): BulkBand {
  const value = text.trim();
  const letter = value.length === 1 ? LSST_BANDS[value.toLowerCase()] : undefined;
  if (letter) return { kind: 'letter', label: letter.name, lo: letter.emMin, hi: letter.emMax };
  if (!/\s/.test(value)) {
    throw usage(
      `${what} must be a band letter (${BAND_LETTERS.join(' ')}) or a wavelength interval in metres "lo hi", not ${quoted(value)}`,
    );
  }
  const { lo, hi } = parseInterval(value, what, (detail) => usage(`${detail}: ${quoted(value)}`));
  if (lo < 0 && lo !== -Infinity) throw usage(`${what} wavelengths are metres and cannot be negative: ${quoted(value)}`);
  return { kind: 'interval', label: `${boundLabel(lo)}_${boundLabel(hi)}`, lo, hi };
}

/** Every LSST band, the default of BAND. */
function everyBand(): BulkBand[] {
  return BAND_LETTERS.map((letter) => parseBand(letter, 'BAND'));
}

/** One of a list of keywords, regardless of case. */
function keyword<T extends string>(name: string, value: string, options: readonly T[]): T {
  const lower = value.trim().toLowerCase();
  const found = options.find((option) => option.toLowerCase() === lower);
  if (found === undefined) throw usage(`${name} must be ${choice(options)}, not ${quoted(value)}`);
  return found;
}

/** `a, b or c`. */
function choice(options: readonly string[]): string {
  return options.length === 1 ? options[0]! : `${options.slice(0, -1).join(', ')} or ${options[options.length - 1]!}`;
}

function parseSize(text: string | undefined, unit: SizeUnit): BulkSize {
  if (text === undefined) return unit === BULK_DEFAULTS.size.unit ? BULK_DEFAULTS.size : { value: BULK_DEFAULTS.size.value, unit };
  const value = parseDecimal(text.trim());
  if (value === undefined || !(value > 0) || !Number.isFinite(value)) throw usage(`SIZE must be a positive number, not ${quoted(text)}`);
  // A stamp has whole pixels: rather refuse 10.5 pix than guess whether 10 or 11 was meant.
  if (unit === 'pix' && !Number.isSafeInteger(value))
    throw usage(`SIZE must be a whole number of pixels with SIZE_UNIT=pix, not ${quoted(text)}`);
  return { value, unit };
}

/** A sky position `ra dec` in decimal degrees (white space or a comma between them). */
function parsePosition(text: string): SkyPosition {
  const tokens = text.trim().split(/[\s,]+/);
  const numbers = tokens.map(parseDecimal);
  const [ra, dec] = numbers;
  if (tokens.length !== 2 || ra === undefined || dec === undefined) {
    throw usage(`POSITION must be "<ra> <dec>" in decimal degrees, not ${quoted(text)}`);
  }
  if (!Number.isFinite(ra)) throw usage(`POSITION ${quoted(text)}: ra ${tokens[0]} is not finite`);
  if (!(dec >= -90 && dec <= 90)) throw usage(`POSITION ${quoted(text)}: dec ${tokens[1]} is outside [-90, 90]`);
  return { ra: normaliseRa(ra), dec: dec + 0 };
}

/** `UPLOAD=positions,<URI>` (DALI 1.1 §3.4.5): one table, named positions; param:<part> or http(s). */
function parseUpload(text: string): BulkSource {
  const value = text.trim();
  // §3.4.5 separates tables with ';' — but a URL may hold one too, so only `;name,` counts.
  if (/;\s*[A-Za-z]\w*\s*,/.test(value)) throw usage(`UPLOAD takes one table, positions, not several: ${quoted(value, 100)}`);
  const comma = value.indexOf(',');
  if (comma < 0) throw usage(`UPLOAD must be positions,<URI> (param:<part> or an http(s) URL), not ${quoted(value, 100)}`);
  const name = value.slice(0, comma).trim();
  const uri = value.slice(comma + 1).trim();
  if (name.toLowerCase() !== 'positions')
    throw usage(`UPLOAD's table must be named positions, not ${quoted(name)} (UPLOAD=positions,<URI>)`);
  if (/^param:/i.test(uri)) {
    const part = uri.slice('param:'.length).trim();
    if (part === '') throw usage(`UPLOAD ${quoted(uri)} names no part: use param:<name of the file part>`);
    return { kind: 'upload', uri, location: { kind: 'part', part: part.toUpperCase() } };
  }
  if (/^https?:\/\//i.test(uri)) {
    let url: URL | undefined;
    try {
      url = new URL(uri);
    } catch {
      url = undefined;
    }
    if (url === undefined || url.hostname === '') throw usage(`UPLOAD URI is not a valid URL: ${quoted(uri, 100)}`);
    return { kind: 'upload', uri, location: { kind: 'url', url: uri } };
  }
  throw usage(`UPLOAD URI must be param:<part> (a file sent with the request) or an http(s) URL, not ${quoted(uri, 100)}`);
}

/** RESPONSEFORMAT values (media types, case-insensitive per RFC 6838 §4.2, and short forms) → packaging. */
const RESPONSE_FORMATS: ReadonlyMap<string, Packaging> = new Map([
  ['application/zip', 'zip'],
  ['zip', 'zip'],
  ['application/x-tar', 'tar'],
  ['application/tar', 'tar'],
  ['tar', 'tar'],
  ['application/fits', 'none'],
  ['image/fits', 'none'],
  ['fits', 'none'],
]);

/**
 * PACKAGE, or the packaging RESPONSEFORMAT (DALI 1.1 §3.4.3) implies: zip, tar, or FITS files
 * (none). Both may be given when they agree.
 */
function parsePackaging(packageText: string | undefined, formatText: string | undefined): Packaging {
  const fromPackage = packageText === undefined ? undefined : keyword('PACKAGE', packageText, PACKAGINGS);
  if (formatText === undefined) return fromPackage ?? BULK_DEFAULTS.packaging;
  const mediaType = formatText.split(';')[0]!.trim().toLowerCase();
  const fromFormat = RESPONSE_FORMATS.get(mediaType);
  if (fromFormat === undefined) {
    throw usage(
      `RESPONSEFORMAT must be application/zip, application/x-tar or application/fits (or zip, tar, fits), not ${quoted(formatText)}`,
    );
  }
  if (fromPackage !== undefined && fromPackage !== fromFormat) {
    throw usage(`RESPONSEFORMAT=${quoted(formatText)} contradicts PACKAGE=${fromPackage}; give one of them`);
  }
  return fromFormat;
}

function parsePlanes(values: readonly string[]): Plane[] {
  if (values.length === 0) return [...BULK_DEFAULTS.planes];
  const chosen = new Set<Plane>();
  for (const value of values) {
    for (const item of value.split(',')) {
      if (item.trim() === '') continue;
      chosen.add(keyword('PLANES', item, PLANES));
    }
  }
  return PLANES.filter((plane) => chosen.has(plane));
}

function parseBoolean(name: string, text: string): boolean {
  const lower = text.trim().toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw usage(`${name} must be true or false, not ${quoted(text)}`);
}

function isBandLetter(text: string): text is BandLetter {
  return (BAND_LETTERS as readonly string[]).includes(text);
}

/** PREVIEW's value → picture format: the forms shared/preview takes as RESPONSEFORMAT (png, jpeg, image/png, …). */
function parsePreviewFormat(text: string): PreviewFormat {
  const format = previewFormatOf(text);
  if (format === null) throw usage(`PREVIEW must be png or jpeg (or image/png, image/jpeg), not ${quoted(text)}`);
  return format;
}

/** `RGB=i,r,g`: three different band letters, red first, each among the job's bands. */
function parseRgbBands(text: string, bands: readonly BulkBand[]): [BandLetter, BandLetter, BandLetter] {
  const items = text.split(',').map((item) => item.trim().toLowerCase());
  const letters = items.filter(isBandLetter);
  const [red, green, blue] = letters;
  if (items.length !== 3 || letters.length !== 3 || red === undefined || green === undefined || blue === undefined) {
    throw usage(`RGB must be three band letters (${BAND_LETTERS.join(' ')}), red first, e.g. RGB=i,r,g, not ${quoted(text)}`);
  }
  if (new Set(letters).size !== 3) throw usage(`RGB needs three different bands, not ${quoted(text)}`);
  const missing = letters.find((letter) => !bands.some((band) => band.label === letter));
  if (missing !== undefined) {
    throw usage(`RGB band ${missing} is not one of the job's bands (BAND=${bands.map((b) => b.label).join(',')}): add BAND=${missing}`);
  }
  return [red, green, blue];
}

/**
 * PREVIEW, RGB and the display parameters. STRETCH, CUTS and CMAP set the look of PREVIEW's
 * pictures only (composites are Lupton's asinh), PREVIEW_SIZE bounds both kinds: given without
 * what they apply to they are refused rather than ignored. Both kinds draw the IMAGE plane.
 */
function parsePictures(
  one: (name: SingleName) => string | undefined,
  job: Pick<BulkRequest, 'bands' | 'planes' | 'match'>,
): Pick<BulkRequest, 'preview' | 'rgb'> {
  const previewText = one('PREVIEW');
  const rgbText = one('RGB');
  const given = DISPLAY_PARAMS.filter((name) => one(name) !== undefined);
  if (previewText === undefined) {
    const look = given.find((name) => name !== 'PREVIEW_SIZE');
    if (look !== undefined) {
      throw usage(
        `${look} is only used with PREVIEW (each stamp's picture; RGB composites are drawn with the Lupton asinh stretch): add PREVIEW=png or PREVIEW=jpeg`,
      );
    }
    if (rgbText === undefined && given.length > 0)
      throw usage('PREVIEW_SIZE is only used with PREVIEW or RGB: add PREVIEW=png, PREVIEW=jpeg or RGB=<red>,<green>,<blue>');
  }
  if (previewText === undefined && rgbText === undefined) return {};
  const format = previewText === undefined ? 'png' : parsePreviewFormat(previewText);
  if (!job.planes.includes('IMAGE')) {
    throw usage(
      `${previewText === undefined ? 'RGB' : 'PREVIEW'} draws the stamps' IMAGE plane: add IMAGE to PLANES (PLANES=${job.planes.join(',')})`,
    );
  }
  const display = parseSodaDisplay(given.map((name) => ({ name, value: one(name)! })));
  const pictures: { preview?: BulkPreview; rgb?: BulkRgb } = {};
  if (previewText !== undefined) pictures.preview = { format, display };
  if (rgbText !== undefined) {
    if (job.match !== 'best')
      throw usage('RGB needs MATCH=best: with MATCH=all a row has a stamp per image and band, and no three of them go together');
    const bands = parseRgbBands(rgbText, job.bands);
    pictures.rgb = display.maxSide === undefined ? { bands, format } : { bands, format, maxSide: display.maxSide };
  }
  return pictures;
}

/** The parameters grouped by canonical name, blank values dropped, with the names no one knows. */
interface Grouped {
  readonly values: ReadonlyMap<KnownName, readonly string[]>;
  readonly unknown: readonly BulkParam[];
}

function group(params: ReadonlyArray<BulkParam>): Grouped {
  const values = new Map<KnownName, string[]>();
  const unknown: BulkParam[] = [];
  for (const param of params) {
    // Uploaded files are parameters too (UWS shows them byReference); UPLOAD points at them.
    if (param.byReference) continue;
    const name = param.name.trim().toUpperCase();
    if (IGNORED.has(name)) continue;
    if (!KNOWN.has(name)) {
      unknown.push(param);
      continue;
    }
    if (param.value.trim() === '') continue;
    const list = values.get(name as KnownName);
    if (list) list.push(param.value);
    else values.set(name as KnownName, [param.value]);
  }
  return { values, unknown };
}

/**
 * Reads a bulk job's parameters. Throws SodaError: UsageError for a missing, malformed or
 * unknown parameter, MultiValuedParamNotSupported for a repeated single-valued one.
 */
export function parseBulkParameters(params: ReadonlyArray<BulkParam>, limits: BulkParamLimits): BulkRequest {
  const { values, unknown } = group(params);
  const all = (name: MultipleName): readonly string[] => values.get(name) ?? [];
  const one = (name: SingleName): string | undefined => {
    const list = values.get(name) ?? [];
    if (list.length > 1) {
      const shown = list.slice(0, 3).map((v) => quoted(v));
      throw new SodaError(
        'MultiValuedParamNotSupported',
        `${name} is given ${list.length} times (${shown.join(', ')}${list.length > 3 ? ', …' : ''}); it takes one value`,
      );
    }
    return list[0];
  };
  // Every single-valued parameter is checked for repeats, read or not.
  for (const name of SINGLE) one(name);

  const uploadText = one('UPLOAD');
  const upload = uploadText === undefined ? undefined : parseUpload(uploadText);
  const part = upload?.kind === 'upload' && upload.location.kind === 'part' ? upload.location.part : undefined;
  // A caller that does not mark uploaded files byReference still passes them, under the part's name.
  const unknownLeft = unknown.filter((p) => p.name.trim().toUpperCase() !== part);
  if (unknownLeft.length > 0) {
    const first = unknownLeft[0]!;
    throw usage(
      `unknown parameter ${first.name.trim().toUpperCase()}=${quoted(first.value)}; this service takes ` +
        `${[...MULTIPLE, ...SINGLE].join(', ')} (and RUNID)`,
    );
  }

  const request = one('REQUEST');
  // TAP 1.0's REQUEST=doQuery, which generic DAL clients still send; nothing else means anything here.
  if (request !== undefined && request.trim().toLowerCase() !== 'doquery')
    throw usage(`REQUEST must be doQuery or left out, not ${quoted(request)}`);
  const version = one('VERSION');
  // DALI 1.1 §3.4.7: a version the service does not implement is an error.
  if (version !== undefined && !['1', '1.0'].includes(version.trim()))
    throw usage(`VERSION ${quoted(version)} is not supported; this service implements version 1.0`);

  const positionTexts = all('POSITION');
  if (positionTexts.length > limits.maxPositions) {
    throw usage(
      `POSITION is given ${positionTexts.length} times; at most ${limits.maxPositions} are allowed (send more as an UPLOAD=positions,… table)`,
    );
  }
  if (upload && positionTexts.length > 0) throw usage('give either UPLOAD=positions,<URI> or POSITION, not both');
  const source: BulkSource | undefined =
    upload ?? (positionTexts.length > 0 ? { kind: 'positions', positions: positionTexts.map(parsePosition) } : undefined);
  if (source === undefined) {
    throw usage('no positions: give UPLOAD=positions,<URI> (a table with ra and dec columns) or POSITION=<ra> <dec> (repeatable)');
  }

  const columns: { ra?: string; dec?: string; id?: string } = {};
  for (const [name, key] of [
    ['RA_COL', 'ra'],
    ['DEC_COL', 'dec'],
    ['ID_COL', 'id'],
  ] as const) {
    const column = one(name);
    if (column === undefined) continue;
    if (source.kind !== 'upload')
      throw usage(`${name}=${quoted(column)} names a column of an UPLOAD table, but the job has POSITION values`);
    columns[key] = column.trim();
  }

  const sizeUnitText = one('SIZE_UNIT');
  const unit = sizeUnitText === undefined ? BULK_DEFAULTS.size.unit : keyword('SIZE_UNIT', sizeUnitText, SIZE_UNITS);
  const bandTexts = all('BAND');
  const bands = new Map<string, BulkBand>();
  // Repeats (g and G, or the same interval twice) would give the same stamps twice.
  for (const band of bandTexts.map((text) => parseBand(text, 'BAND'))) if (!bands.has(band.label)) bands.set(band.label, band);
  // Each band multiplies the manifest's rows: a bound keeps a batch's plan in memory.
  if (bands.size > MAX_BANDS) throw usage(`BAND is given ${bands.size} different values; a batch takes at most ${MAX_BANDS}`);
  const timeText = one('TIME');
  const matchText = one('MATCH');
  const edgeText = one('EDGE');
  const dryRunText = one('DRYRUN');

  // In this order, so that of several bad values the first named here is the one reported.
  const parsed: BulkRequest = {
    size: parseSize(one('SIZE'), unit),
    bands: bandTexts.length === 0 ? everyBand() : [...bands.values()],
    dpsubtype: one('DPSUBTYPE')?.trim() ?? BULK_DEFAULTS.dpsubtype,
    collection: one('COLLECTION')?.trim(),
    time: timeText === undefined ? undefined : parseInterval(timeText, 'TIME', (detail) => usage(`${detail}: ${quoted(timeText)}`)),
    match: matchText === undefined ? BULK_DEFAULTS.match : keyword('MATCH', matchText, MATCH_MODES),
    edge: edgeText === undefined ? BULK_DEFAULTS.edge : keyword('EDGE', edgeText, EDGE_MODES),
    planes: parsePlanes(all('PLANES')),
    packaging: parsePackaging(one('PACKAGE'), one('RESPONSEFORMAT')),
    dryRun: dryRunText === undefined ? BULK_DEFAULTS.dryRun : parseBoolean('DRYRUN', dryRunText),
    columns,
    source,
  };
  return { ...parsed, ...parsePictures(one, parsed) };
}
