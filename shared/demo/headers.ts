/**
 * FITS headers of the demo images, laid out as Rubin's butler writes Exposures: a primary HDU
 * without data holding the observation metadata and the butler provenance (HIERARCH LSST
 * BUTLER …), then IMAGE, MASK and VARIANCE extensions each carrying the full celestial WCS.
 */
import { createHash } from 'node:crypto';
import { Header } from '../fits';
import type { Band } from './photometry';
import { physicalFilter } from './photometry';
import { type WcsSpec, setCards, wcsCards } from './wcs';

export type DemoDatasetType = 'deepCoadd_calexp' | 'calexp' | 'goodSeeingDiff_differenceExp';
export const DATASET_TYPES: readonly DemoDatasetType[] = ['deepCoadd_calexp', 'calexp', 'goodSeeingDiff_differenceExp'];

export const INSTRUMENT = 'LSSTCam-imSim';
export const TELESCOPE = 'LSST';
export const BUTLER_RUN = '2.2i/runs/DP0.2/demo';

/** A butler data id: band plus tract/patch (coadds) or visit/detector (visit images). */
export interface DataId {
  readonly band: Band;
  readonly tract?: number;
  readonly patch?: number;
  readonly visit?: number;
  readonly detector?: number;
}

/** The tutorial queries the i-band coadd of tract 4431, patch 17 by this id. */
export const FIXED_UUIDS: Readonly<Record<string, string>> = {
  'deepCoadd_calexp:band=i,patch=17,tract=4431': '20d28216-534a-4102-b8a7-1c7f32a9b78c',
};

function dataIdKey(datasetType: string, dataId: DataId): string {
  const parts = Object.entries(dataId)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .sort();
  return `${datasetType}:${parts.join(',')}`;
}

/**
 * The dataset UUID: fixed ones from FIXED_UUIDS, otherwise the first 128 bits of
 * SHA-256("dp02-demo:" + dataset type + sorted data id) with the RFC 4122 version-4 and variant
 * bits set (v4-shaped, as the butler's random ids are, but reproducible).
 */
export function datasetUuid(datasetType: DemoDatasetType, dataId: DataId): string {
  const key = dataIdKey(datasetType, dataId);
  const fixed = FIXED_UUIDS[key];
  if (fixed) return fixed;
  const hash = createHash('sha256').update(`dp02-demo:${key}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x40;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Rubin mask planes (bit numbers, as written in MP_<name> keywords). */
export const MASK_PLANES = {
  BAD: 0,
  SAT: 1,
  INTRP: 2,
  CR: 3,
  EDGE: 4,
  DETECTED: 5,
  DETECTED_NEGATIVE: 6,
  SUSPECT: 7,
  NO_DATA: 8,
  CROSSTALK: 9,
  NOT_DEBLENDED: 10,
  UNMASKEDNAN: 11,
  CLIPPED: 12,
  INEXACT_PSF: 13,
  REJECTED: 14,
  SENSOR_EDGE: 15,
} as const;
export type MaskPlane = keyof typeof MASK_PLANES;

export function maskBit(plane: MaskPlane): number {
  return 1 << MASK_PLANES[plane];
}

/** ISO 8601 date-time (no zone; the time scale is TIMESYS) of an MJD, to the millisecond. */
export function mjdToIso(mjd: number): string {
  const ms = Math.round((mjd - 40587) * 86400000);
  return new Date(ms).toISOString().replace(/Z$/, '');
}

/** Metadata of one image for its primary header. */
export interface ImageMetadata {
  readonly datasetType: DemoDatasetType;
  readonly id: string;
  readonly dataId: DataId;
  /** Start of the (first) exposure, MJD TAI. */
  readonly mjdObs: number;
  /** Coadds: end of the last input exposure. */
  readonly mjdEnd?: number;
  /** Seconds: one visit's exposure, or the sum over a coadd's inputs. */
  readonly exptime: number;
  /** Coadds: number of input visits. */
  readonly inputs?: number;
  readonly psfFwhm: number;
  readonly binning: number;
  readonly airmass?: number;
  /** Visits: sky position angle of the detector's +y axis, degrees. */
  readonly rotation?: number;
}

const FLOAT = { numberType: 'float' } as const;

export function primaryHeader(meta: ImageMetadata): Header {
  const h = new Header();
  const { band, tract, patch, visit, detector } = meta.dataId;
  const filter = physicalFilter(band);
  h.set('INSTRUME', INSTRUMENT, 'instrument (DC2 imSim simulation of LSSTCam)');
  h.set('TELESCOP', TELESCOPE, 'telescope');
  h.set('FILTER', filter, 'physical filter');
  h.set('TIMESYS', 'TAI', 'time scale of MJD-OBS, MJD-END, DATE-OBS, DATE-END');
  h.set('DATE-OBS', mjdToIso(meta.mjdObs), 'start of the (first) exposure');
  h.set('MJD-OBS', meta.mjdObs, '[d] start of the (first) exposure', FLOAT);
  if (meta.mjdEnd !== undefined) {
    h.set('DATE-END', mjdToIso(meta.mjdEnd), 'end of the last input exposure');
    h.set('MJD-END', meta.mjdEnd, '[d] end of the last input exposure', FLOAT);
  }
  h.set('EXPTIME', meta.exptime, meta.inputs !== undefined ? '[s] total exposure time of the inputs' : '[s] exposure time', FLOAT);
  if (meta.inputs !== undefined) h.set('NCOMBINE', meta.inputs, 'number of input visits');
  else h.set('DARKTIME', meta.exptime, '[s] dark time', FLOAT);
  if (meta.airmass !== undefined) h.set('AIRMASS', meta.airmass, 'airmass at the start of the exposure', FLOAT);
  if (meta.rotation !== undefined) h.set('ROTPA', meta.rotation, '[deg] position angle of the detector +y axis', FLOAT);
  h.set('PSF_FWHM', meta.psfFwhm, '[arcsec] FWHM of the PSF core', FLOAT);
  h.set('BINNING', meta.binning, 'pixels binned b x b from 0.2 arcsec (1 = native)');
  h.set('HIERARCH LSST BUTLER ID', meta.id);
  h.set('HIERARCH LSST BUTLER RUN', BUTLER_RUN);
  h.set('HIERARCH LSST BUTLER DATASETTYPE', meta.datasetType);
  h.set('HIERARCH LSST BUTLER DATAID BAND', band);
  h.set('HIERARCH LSST BUTLER DATAID PHYSICAL_FILTER', filter);
  if (tract !== undefined) {
    h.set('HIERARCH LSST BUTLER DATAID SKYMAP', 'DC2');
    h.set('HIERARCH LSST BUTLER DATAID TRACT', tract);
  }
  if (patch !== undefined) h.set('HIERARCH LSST BUTLER DATAID PATCH', patch);
  if (visit !== undefined) {
    h.set('HIERARCH LSST BUTLER DATAID INSTRUMENT', INSTRUMENT);
    h.set('HIERARCH LSST BUTLER DATAID VISIT', visit);
  }
  if (detector !== undefined) h.set('HIERARCH LSST BUTLER DATAID DETECTOR', detector);
  h.addComment('Simulated DP0.2-like demo image (vo-image-services shared/demo): deterministic, not real data.');
  return h;
}

export type ExtensionName = 'IMAGE' | 'MASK' | 'VARIANCE';

export function extensionHeader(name: ExtensionName, wcs: WcsSpec): Header {
  const h = new Header();
  h.set('INHERIT', true, 'extension inherits the primary header');
  h.set('EXTTYPE', name, 'Rubin Exposure plane');
  h.set('EXTNAME', name, 'extension name');
  setCards(h, wcsCards(wcs));
  if (name === 'IMAGE') h.set('BUNIT', 'nJy', 'pixel values are fluxes in nanojansky');
  if (name === 'VARIANCE') h.set('BUNIT', 'nJy**2', 'variance of the IMAGE pixels');
  if (name === 'MASK') {
    for (const [plane, bit] of Object.entries(MASK_PLANES)) h.set(`MP_${plane}`, bit, `mask plane bit (value ${2 ** bit})`);
  }
  return h;
}
