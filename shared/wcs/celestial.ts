/**
 * Celestial WCS of 2-D images: TAN (gnomonic) with optional SIP distortion, following FITS WCS
 * Paper I (Greisen & Calabretta 2002, A&A 395, 1061), Paper II (Calabretta & Greisen 2002, A&A
 * 395, 1077) and the SIP convention (Shupe et al. 2005).
 *
 * Pixel coordinates follow FITS (Paper I §2.1): 1-based, the centre of the first pixel at
 * (1, 1), as CRPIX is given. The `…0` variants use 0-based array indices (centre of the first
 * pixel at (0, 0)), i.e. FITS − 1, for code indexing pixel arrays.
 */
import type { Point, Polygon } from '../sky';
import { makePolygon, normalizeRa } from '../sky';
import { type HeaderLike, HeaderReader, WcsError } from './header';
import { type LinearConvention, type Matrix2, determinant, invert, readLinearTransform } from './linear';
import { nativeToCelestialMatrix, tanDeprojectInto, tanProject } from './projection';
import { type SipDistortion, SipEvaluator, readSip } from './sip';

export interface PixelPosition {
  readonly x: number;
  readonly y: number;
}

export interface WcsFootprint {
  /** The image outline (outer pixel edges) on the sky, DALI-normalised. */
  readonly polygon: Polygon;
  /** Sky positions of the outer corners, at FITS pixels (0.5, 0.5), (N1+0.5, 0.5), (N1+0.5, N2+0.5), (0.5, N2+0.5). */
  readonly corners: readonly Point[];
  /** Sky position of the image centre, FITS pixel ((N1+1)/2, (N2+1)/2). */
  readonly center: Point;
  /** Nominal pixel scale in degrees per pixel, √|det M| at the reference pixel. */
  readonly pixelScale: number;
}

export interface FootprintOptions {
  /**
   * Vertices per image edge. Without distortion 1 is exact: TAN maps straight pixel lines onto
   * great circles. SIP bends the edges slightly, so the default there is 8.
   */
  readonly segmentsPerEdge?: number;
}

export interface ParseWcsOptions {
  /** Alternative WCS letter (Paper I), e.g. 'A'; default the primary description. */
  readonly alt?: string;
  /** Image size when the header lacks NAXIS1/NAXIS2 (e.g. compressed images, whose size is ZNAXISn). */
  readonly imageSize?: readonly [number, number];
}

export interface CelestialWcs {
  readonly projection: 'TAN';
  readonly ctype: readonly [string, string];
  /** 1 when the first pixel axis carries RA (RA---TAN, DEC--TAN), 2 when axes are swapped. */
  readonly longitudeAxis: 1 | 2;
  readonly crpix: readonly [number, number];
  /** The reference point (CRVAL of the RA and Dec axes). */
  readonly crval: Point;
  readonly lonpole: number;
  /** Pixel → intermediate world matrix (degrees/pixel) in header axis order. */
  readonly matrix: Matrix2;
  readonly linearConvention: LinearConvention;
  readonly sip: SipDistortion | undefined;
  /**
   * Reference frame (RADESYS, Paper II §3.1, defaulted from EQUINOX when absent). No frame
   * transformation is made: coordinates are returned in this frame.
   */
  readonly radesys: string;
  readonly equinox: number | undefined;
  /**
   * True for ICRS, and for FK5 at equinox J2000 (absent EQUINOX included) which agrees with ICRS
   * to < 0.03″ and is used as ICRS here; false for FK4, other equinoxes, GAPPT and the like,
   * whose coordinates callers must not mix with ICRS ones.
   */
  readonly icrsCompatible: boolean;
  /** NAXIS1, NAXIS2 if known. */
  readonly imageSize: readonly [number, number] | undefined;
  /** Nominal pixel scale in degrees per pixel, √|det M| (ignores SIP). */
  readonly pixelScale: number;

  /** FITS (1-based) pixel → sky (ICRS degrees). */
  pixelToSky(x: number, y: number): Point;
  /** Sky → FITS (1-based) pixel; NaN coordinates when the position cannot be projected (θ ≤ 0) or SIP does not invert. */
  skyToPixel(ra: number, dec: number): PixelPosition;
  /** 0-based array index → sky. */
  pixelToSky0(x0: number, y0: number): Point;
  /** Sky → 0-based array index (fractional). */
  skyToPixel0(ra: number, dec: number): PixelPosition;
  /** Batch pixel → sky; `origin` 1 for FITS pixels, 0 for array indices. */
  pixelToSkyBatch(xs: ArrayLike<number>, ys: ArrayLike<number>, origin: 0 | 1): { ra: Float64Array; dec: Float64Array };
  /** Batch sky → pixel; `origin` 1 for FITS pixels, 0 for array indices. */
  skyToPixelBatch(ras: ArrayLike<number>, decs: ArrayLike<number>, origin: 0 | 1): { x: Float64Array; y: Float64Array };
  /**
   * Batch sky → pixel of directions given as unit vectors (x towards RA 0, z towards the north
   * pole): skyToPixelBatch of the same positions, without turning vectors into angles and back.
   */
  unitVectorsToPixels(xs: Float64Array, ys: Float64Array, zs: Float64Array, origin: 0 | 1): { x: Float64Array; y: Float64Array };
  /** Whether a sky position falls on the image (within the outer pixel edges); needs the image size. */
  containsSky(ra: number, dec: number): boolean;
  /** Outline, centre and scale of the image; needs the image size. */
  footprint(options?: FootprintOptions): WcsFootprint;
}

const RAD = Math.PI / 180;

interface AxisType {
  readonly coordinate: string;
  readonly projection: string;
  readonly suffix: string;
}

const OTHER_CELESTIAL_TYPES = new Set(['GLON', 'GLAT', 'ELON', 'ELAT', 'SLON', 'SLAT', 'HPLN', 'HPLT', 'HGLN', 'HGLT', 'CRLN', 'CRLT']);

/** Splits a celestial CTYPE in the "4-3" form (Paper II), e.g. `RA---TAN-SIP`. */
function parseCtype(ctype: string): AxisType | undefined {
  if (ctype.length < 8 || ctype[4] !== '-') return undefined;
  return { coordinate: ctype.slice(0, 4).replace(/-+$/, ''), projection: ctype.slice(5, 8), suffix: ctype.slice(8) };
}

function describeCtype(index: number, ctype: string): string {
  return `CTYPE${index + 1} = '${ctype}'`;
}

/** RADESYS default (Paper II §3.1): ICRS without EQUINOX, FK4 before 1984, FK5 from 1984 on. */
function defaultRadesys(equinox: number | undefined): string {
  if (equinox === undefined) return 'ICRS';
  return equinox < 1984 ? 'FK4' : 'FK5';
}

class TanWcs implements CelestialWcs {
  readonly projection = 'TAN' as const;
  readonly pixelScale: number;
  private readonly rotation: Float64Array;
  private readonly inverseMatrix: Matrix2;
  private readonly sipEvaluator: SipEvaluator | undefined;
  private readonly native = new Float64Array(3);

  constructor(
    readonly ctype: readonly [string, string],
    readonly longitudeAxis: 1 | 2,
    readonly crpix: readonly [number, number],
    readonly crval: Point,
    readonly lonpole: number,
    readonly matrix: Matrix2,
    readonly linearConvention: LinearConvention,
    readonly sip: SipDistortion | undefined,
    readonly radesys: string,
    readonly equinox: number | undefined,
    readonly icrsCompatible: boolean,
    readonly imageSize: readonly [number, number] | undefined,
  ) {
    this.rotation = nativeToCelestialMatrix(crval.ra, crval.dec, lonpole);
    this.inverseMatrix = invert(matrix);
    this.sipEvaluator = sip === undefined ? undefined : new SipEvaluator(sip);
    this.pixelScale = Math.sqrt(Math.abs(determinant(matrix)));
  }

  pixelToSky(x: number, y: number): Point {
    const out = new Float64Array(2);
    this.pixelToSkyInto(x, y, out);
    return { ra: out[0]!, dec: out[1]! };
  }

  pixelToSky0(x0: number, y0: number): Point {
    return this.pixelToSky(x0 + 1, y0 + 1);
  }

  skyToPixel(ra: number, dec: number): PixelPosition {
    const out = new Float64Array(2);
    this.skyToPixelInto(ra, dec, out);
    return { x: out[0]!, y: out[1]! };
  }

  skyToPixel0(ra: number, dec: number): PixelPosition {
    const p = this.skyToPixel(ra, dec);
    return { x: p.x - 1, y: p.y - 1 };
  }

  pixelToSkyBatch(xs: ArrayLike<number>, ys: ArrayLike<number>, origin: 0 | 1): { ra: Float64Array; dec: Float64Array } {
    if (xs.length !== ys.length) throw new RangeError('pixelToSkyBatch: xs and ys differ in length');
    const shift = 1 - origin;
    const ra = new Float64Array(xs.length);
    const dec = new Float64Array(xs.length);
    const out = new Float64Array(2);
    for (let i = 0; i < xs.length; i++) {
      this.pixelToSkyInto(xs[i]! + shift, ys[i]! + shift, out);
      ra[i] = out[0]!;
      dec[i] = out[1]!;
    }
    return { ra, dec };
  }

  skyToPixelBatch(ras: ArrayLike<number>, decs: ArrayLike<number>, origin: 0 | 1): { x: Float64Array; y: Float64Array } {
    if (ras.length !== decs.length) throw new RangeError('skyToPixelBatch: ras and decs differ in length');
    const shift = 1 - origin;
    const x = new Float64Array(ras.length);
    const y = new Float64Array(ras.length);
    const out = new Float64Array(2);
    for (let i = 0; i < ras.length; i++) {
      this.skyToPixelInto(ras[i]!, decs[i]!, out);
      x[i] = out[0]! - shift;
      y[i] = out[1]! - shift;
    }
    return { x, y };
  }

  unitVectorsToPixels(xs: Float64Array, ys: Float64Array, zs: Float64Array, origin: 0 | 1): { x: Float64Array; y: Float64Array } {
    if (xs.length !== ys.length || xs.length !== zs.length) throw new RangeError('unitVectorsToPixels: xs, ys and zs differ in length');
    const shift = 1 - origin;
    const x = new Float64Array(xs.length);
    const y = new Float64Array(xs.length);
    const out = new Float64Array(2);
    for (let i = 0; i < xs.length; i++) {
      this.vectorToPixelInto(xs[i]!, ys[i]!, zs[i]!, out);
      x[i] = out[0]! - shift;
      y[i] = out[1]! - shift;
    }
    return { x, y };
  }

  containsSky(ra: number, dec: number): boolean {
    const [n1, n2] = this.requireImageSize('containsSky');
    const p = this.skyToPixel(ra, dec);
    return p.x >= 0.5 && p.x <= n1 + 0.5 && p.y >= 0.5 && p.y <= n2 + 0.5;
  }

  footprint(options: FootprintOptions = {}): WcsFootprint {
    const [n1, n2] = this.requireImageSize('footprint');
    const segments = Math.max(1, Math.floor(options.segmentsPerEdge ?? (this.sip === undefined ? 1 : 8)));
    const cornerPixels: ReadonlyArray<readonly [number, number]> = [
      [0.5, 0.5],
      [n1 + 0.5, 0.5],
      [n1 + 0.5, n2 + 0.5],
      [0.5, n2 + 0.5],
    ];
    const outline: Point[] = [];
    for (let edge = 0; edge < 4; edge++) {
      const [x0, y0] = cornerPixels[edge]!;
      const [x1, y1] = cornerPixels[(edge + 1) % 4]!;
      for (let k = 0; k < segments; k++) {
        const t = k / segments;
        outline.push(this.pixelToSky(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t));
      }
    }
    return {
      polygon: makePolygon(outline, 'image footprint'),
      corners: cornerPixels.map(([x, y]) => this.pixelToSky(x, y)),
      center: this.pixelToSky((n1 + 1) / 2, (n2 + 1) / 2),
      pixelScale: this.pixelScale,
    };
  }

  private requireImageSize(what: string): readonly [number, number] {
    if (this.imageSize === undefined) {
      throw new WcsError(`${what} needs the image size: NAXIS1/NAXIS2 missing (pass imageSize to parseWcs)`);
    }
    return this.imageSize;
  }

  /** Paper I §2.1 then Paper II §5.1.3 and eq. 2: pixel → (SIP) → linear → TAN⁻¹ → rotation. */
  private pixelToSkyInto(x: number, y: number, out: Float64Array): void {
    let u = x - this.crpix[0];
    let v = y - this.crpix[1];
    if (this.sipEvaluator !== undefined) [u, v] = this.sipEvaluator.forward(u, v);
    const m = this.matrix;
    const w1 = m[0] * u + m[1] * v;
    const w2 = m[2] * u + m[3] * v;
    const [xi, eta] = this.longitudeAxis === 1 ? [w1, w2] : [w2, w1];
    const n = this.native;
    tanDeprojectInto(xi, eta, n);
    const r = this.rotation;
    const cx = r[0]! * n[0]! + r[1]! * n[1]! + r[2]! * n[2]!;
    const cy = r[3]! * n[0]! + r[4]! * n[1]! + r[5]! * n[2]!;
    const cz = r[6]! * n[0]! + r[7]! * n[1]! + r[8]! * n[2]!;
    out[0] = normalizeRa(Math.atan2(cy, cx) / RAD);
    out[1] = Math.atan2(cz, Math.hypot(cx, cy)) / RAD;
  }

  private skyToPixelInto(ra: number, dec: number, out: Float64Array): void {
    const cosDec = Math.cos(dec * RAD);
    this.vectorToPixelInto(cosDec * Math.cos(ra * RAD), cosDec * Math.sin(ra * RAD), Math.sin(dec * RAD), out);
  }

  /** The celestial unit vector (cx, cy, cz) → FITS pixel: rotation to native, TAN, linear, SIP⁻¹. */
  private vectorToPixelInto(cx: number, cy: number, cz: number, out: Float64Array): void {
    const r = this.rotation;
    // The rotation is orthogonal: celestial → native is its transpose.
    const n = this.native;
    n[0] = r[0]! * cx + r[3]! * cy + r[6]! * cz;
    n[1] = r[1]! * cx + r[4]! * cy + r[7]! * cz;
    n[2] = r[2]! * cx + r[5]! * cy + r[8]! * cz;
    const projected = tanProject(n);
    if (projected === undefined) {
      out[0] = out[1] = NaN;
      return;
    }
    const [xi, eta] = projected;
    const [w1, w2] = this.longitudeAxis === 1 ? [xi, eta] : [eta, xi];
    const inv = this.inverseMatrix;
    let u = inv[0] * w1 + inv[1] * w2;
    let v = inv[2] * w1 + inv[3] * w2;
    if (this.sipEvaluator !== undefined) {
      const solved = this.sipEvaluator.inverse(u, v);
      if (solved === undefined) {
        out[0] = out[1] = NaN;
        return;
      }
      [u, v] = solved;
    }
    out[0] = u + this.crpix[0];
    out[1] = v + this.crpix[1];
  }
}

/**
 * Reads the celestial WCS of a 2-D image header. Supported: RA---TAN/DEC--TAN and
 * RA---TAN-SIP/DEC--TAN-SIP on the first two axes in either order; CD, PC+CDELT or CDELT+CROTA2
 * linear forms; LONPOLE (default 180°, or 0° when CRVAL2 = 90°, Paper II); RADESYS/EQUINOX
 * recorded but not applied. Throws WcsError naming the offending keyword otherwise.
 */
export function parseWcs(header: HeaderLike, options: ParseWcsOptions = {}): CelestialWcs {
  const alt = (options.alt ?? '').trim().toUpperCase();
  if (!/^[A-Z]?$/.test(alt)) throw new WcsError(`alternative WCS letter must be A-Z, got '${options.alt}'`);
  const reader = new HeaderReader(header);
  const key = (name: string): string => `${name}${alt}`;
  const axisCount = Math.max(2, reader.integer(key('WCSAXES')) ?? reader.integer('NAXIS') ?? 2);
  const ctypes: string[] = [];
  for (let i = 1; i <= axisCount; i++) ctypes.push((reader.string(key(`CTYPE${i}`)) ?? '').toUpperCase());

  let lonIndex = -1;
  let latIndex = -1;
  ctypes.forEach((ctype, index) => {
    const type = parseCtype(ctype);
    if (type === undefined) return;
    if (type.coordinate === 'RA') lonIndex = index;
    else if (type.coordinate === 'DEC') latIndex = index;
    else if (OTHER_CELESTIAL_TYPES.has(type.coordinate)) {
      throw new WcsError(
        `unsupported celestial coordinate type ${type.coordinate} in ${describeCtype(index, ctype)}; only equatorial RA/DEC is supported`,
      );
    }
  });
  if (lonIndex < 0 || latIndex < 0) {
    throw new WcsError(
      `no celestial RA/DEC axis pair in ${ctypes
        .slice(0, 2)
        .map((c, i) => describeCtype(i, c))
        .join(', ')}; expected e.g. RA---TAN and DEC--TAN`,
    );
  }
  if (lonIndex > 1 || latIndex > 1) {
    throw new WcsError(
      `the celestial axes must be the first two image axes, but ${lonIndex > 1 ? 'RA' : 'DEC'} is axis ${Math.max(lonIndex, latIndex) + 1}`,
    );
  }
  const lonAxis = lonIndex as 0 | 1;
  const latAxis = latIndex as 0 | 1;
  const lonType = parseCtype(ctypes[lonAxis]!)!;
  const latType = parseCtype(ctypes[latAxis]!)!;
  for (const [index, type] of [
    [lonAxis, lonType],
    [latAxis, latType],
  ] as const) {
    if (type.projection !== 'TAN') {
      throw new WcsError(
        `unsupported projection ${type.projection} in ${describeCtype(index, ctypes[index]!)}; only TAN (optionally TAN-SIP) is supported`,
      );
    }
    if (type.suffix !== '' && type.suffix !== '-SIP') {
      throw new WcsError(
        `unsupported distortion ${type.suffix.replace(/^-/, '')} in ${describeCtype(index, ctypes[index]!)}; only SIP is supported`,
      );
    }
    const unit = reader.string(key(`CUNIT${index + 1}`));
    if (unit !== undefined && unit !== '' && unit.toLowerCase() !== 'deg') {
      throw new WcsError(`unsupported unit CUNIT${index + 1} = '${unit}'; celestial axes must be in deg`);
    }
  }
  if (lonType.suffix !== latType.suffix) {
    throw new WcsError(
      `${describeCtype(lonAxis, ctypes[lonAxis]!)} and ${describeCtype(latAxis, ctypes[latAxis]!)} disagree about SIP distortion`,
    );
  }

  const crpix = [reader.numberOr(key('CRPIX1'), 0), reader.numberOr(key('CRPIX2'), 0)] as const;
  const crvalLon = reader.numberOr(key(`CRVAL${lonAxis + 1}`), 0);
  const crvalLat = reader.numberOr(key(`CRVAL${latAxis + 1}`), 0);
  if (!(crvalLat >= -90 && crvalLat <= 90)) {
    throw new WcsError(`CRVAL${latAxis + 1}${alt} = ${crvalLat} is not a valid declination`);
  }
  // A non-default fiducial point (PVi_1, PVi_2 on the longitude axis, Paper II) is not supported.
  const phi0 = reader.numberOr(key(`PV${lonAxis + 1}_1`), 0);
  const theta0 = reader.numberOr(key(`PV${lonAxis + 1}_2`), 90);
  if (phi0 !== 0 || theta0 !== 90) {
    throw new WcsError(`PV${lonAxis + 1}_1/PV${lonAxis + 1}_2 move the fiducial point of TAN; this is not supported`);
  }
  // Paper II: φp (LONPOLE) defaults to 0 when δ0 ≥ θ0 (only δ0 = 90° for zenithal projections), else 180°.
  const lonpole = reader.number(key('LONPOLE')) ?? reader.number(key(`PV${lonAxis + 1}_3`)) ?? (crvalLat >= 90 ? 0 : 180);

  const linear = readLinearTransform(reader, alt, lonAxis, latAxis);
  const sip = lonType.suffix === '-SIP' ? readSip(reader, describeCtype(lonAxis, ctypes[lonAxis]!)) : undefined;

  const equinox = reader.number(key('EQUINOX')) ?? (alt === '' ? reader.number('EPOCH') : undefined);
  const radesys = (reader.string(key('RADESYS')) ?? reader.string(key('RADECSYS')) ?? defaultRadesys(equinox)).toUpperCase();
  const icrsCompatible = radesys === 'ICRS' || (radesys === 'FK5' && (equinox === undefined || equinox === 2000));

  let imageSize: readonly [number, number] | undefined = options.imageSize;
  if (imageSize === undefined) {
    const n1 = reader.integer('NAXIS1');
    const n2 = reader.integer('NAXIS2');
    if (n1 !== undefined && n2 !== undefined) imageSize = [n1, n2];
  }

  return new TanWcs(
    [ctypes[0]!, ctypes[1]!],
    lonAxis === 0 ? 1 : 2,
    crpix,
    { ra: normalizeRa(crvalLon), dec: crvalLat },
    lonpole,
    linear.matrix,
    linear.convention,
    sip,
    radesys,
    equinox,
    icrsCompatible,
    imageSize,
  );
}
