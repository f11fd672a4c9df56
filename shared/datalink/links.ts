/**
 * DataLink 1.1 {links} responses (§3): the rows for each requested ID — the file itself
 * (#this, a signed URL) and the cutout services that apply to it (#cutout, one row per SODA
 * service descriptor) — or an error row (NotFoundFault …), and the SODA service
 * descriptors (§4) with IDs `cutout-sync` and `cutout-async` that pyvo's
 * get_adhocservice_by_id() looks up.
 */
import { INTERVAL_PARAM } from '../dali/interval';
import { SODA_RESPONSE_FORMATS } from '../soda/params';
import { PREVIEW_CONTENT_TYPE, PREVIEW_KINDS, type PreviewKind } from './previews';
import type { Dataset } from '../obscore/lookup';
import { coveringCircle, formatNumber, parseStcs, type Shape } from '../sky';
import type { FieldDef, InfoDef } from '../votable';
import { escapeXml } from '../xml';

export const DATALINK_STANDARD_ID = 'ivo://ivoa.net/std/DataLink#links-1.1';
export const DATALINK_CONTENT_TYPE = 'application/x-votable+xml;content=datalink';
export const SODA_SYNC_ID = 'ivo://ivoa.net/std/SODA#sync-1.0';
export const SODA_ASYNC_ID = 'ivo://ivoa.net/std/SODA#async-1.0';

/** XML ID of the ID FIELD: the descriptors' ID parameter refers to it (DataLink §4.1). */
const ID_FIELD = 'datalink_id';

/** DataLink 1.1 §3.2 columns, in the standard's order. */
export const DATALINK_FIELDS: readonly FieldDef[] = [
  {
    name: 'ID',
    datatype: 'char',
    arraysize: '*',
    ucd: 'meta.id;meta.main',
    id: ID_FIELD,
    description: 'Identifier of the dataset the link is for',
  },
  { name: 'access_url', datatype: 'char', arraysize: '*', ucd: 'meta.ref.url', description: 'URL of the linked resource' },
  {
    name: 'service_def',
    datatype: 'char',
    arraysize: '*',
    ucd: 'meta.ref',
    description: 'ID of the service descriptor of the linked service',
  },
  { name: 'error_message', datatype: 'char', arraysize: '*', ucd: 'meta.code.error', description: 'Why there is no link' },
  { name: 'description', datatype: 'char', arraysize: '*', ucd: 'meta.note', description: 'What the link is' },
  { name: 'semantics', datatype: 'char', arraysize: '*', ucd: 'meta.code', description: 'Term of http://www.ivoa.net/rdf/datalink/core' },
  { name: 'content_type', datatype: 'char', arraysize: '*', ucd: 'meta.code.mime', description: 'Media type of the linked resource' },
  { name: 'content_length', datatype: 'long', unit: 'byte', ucd: 'phys.size;meta.file', description: 'Size of the linked resource' },
];

export const DATALINK_INFOS: readonly InfoDef[] = [{ name: 'standardID', value: DATALINK_STANDARD_ID }];

export type LinkRow = [
  id: string,
  accessUrl: string | null,
  serviceDef: string | null,
  errorMessage: string | null,
  description: string,
  semantics: string,
  contentType: string | null,
  contentLength: number | null,
];

export interface LinkContext {
  /** The signed URL of a file under DATA_DIR. */
  fileUrl(relativePath: string): string;
  /**
   * The dataset's #preview and #thumbnail pictures (PNG): their sizes when they are cached
   * (null: not yet made), or undefined when the dataset gets no such links.
   */
  pictures?(dataset: Dataset): Readonly<Record<PreviewKind, number | null>> | undefined;
}

/** The two picture rows' texts (DataLink core vocabulary: #preview a quick look, #thumbnail a small image for listings). */
const PICTURES: readonly { kind: PreviewKind; semantics: string; description: string }[] = [
  {
    kind: 'preview',
    semantics: '#preview',
    description: `A quick look at the whole image (PNG, at most ${PREVIEW_KINDS.preview} pixels on a side)`,
  },
  {
    kind: 'thumbnail',
    semantics: '#thumbnail',
    description: `A small picture of the whole image (PNG, at most ${PREVIEW_KINDS.thumbnail} pixels on a side)`,
  },
];

/** The rows of one requested ID, consecutive as §3.3 requires. */
export function linkRows(requested: string, dataset: Dataset | undefined, context: LinkContext): LinkRow[] {
  if (!dataset)
    return [[requested, null, null, `NotFoundFault: no dataset with ID ${requested}`, 'unknown identifier', '#this', null, null]];
  if (!dataset.file) {
    return [
      [
        requested,
        null,
        null,
        `NotFoundFault: ${dataset.id} is described by metadata only; it has no file`,
        'the dataset file',
        '#this',
        null,
        null,
      ],
    ];
  }
  const fileUrl = context.fileUrl(dataset.file);
  const sizes = context.pictures?.(dataset);
  const pictures: LinkRow[] = sizes
    ? PICTURES.map(({ kind, semantics, description }) => [
        requested,
        `${fileUrl}&preview=${kind}`,
        null,
        null,
        description,
        semantics,
        PREVIEW_CONTENT_TYPE,
        sizes[kind],
      ])
    : [];
  return [
    [
      requested,
      fileUrl,
      null,
      null,
      'The image file (FITS); the link is signed and expires after a while',
      '#this',
      dataset.contentType,
      dataset.fileSize,
    ],
    ...pictures,
    [requested, null, 'cutout-sync', null, 'Cutouts of the image (IVOA SODA 1.0, synchronous)', '#cutout', 'application/fits', null],
    [
      requested,
      null,
      'cutout-async',
      null,
      'Cutouts of the image (IVOA SODA 1.0, asynchronous UWS jobs; several at once)',
      '#cutout',
      'application/fits',
      null,
    ],
  ];
}

export interface ParamSpec {
  name: string;
  datatype: string;
  arraysize?: string;
  xtype?: string;
  unit?: string;
  ucd?: string;
  description: string;
  /** VALUES content (MIN/MAX/OPTION elements). */
  values?: string;
  ref?: string;
}

function paramXml(p: ParamSpec): string {
  const attrs = [`name="${p.name}"`, `datatype="${p.datatype}"`];
  if (p.arraysize) attrs.push(`arraysize="${p.arraysize}"`);
  if (p.xtype) attrs.push(`xtype="${p.xtype}"`);
  if (p.unit) attrs.push(`unit="${p.unit}"`);
  if (p.ucd) attrs.push(`ucd="${p.ucd}"`);
  attrs.push('value=""');
  if (p.ref) attrs.push(`ref="${p.ref}"`);
  return `<PARAM ${attrs.join(' ')}><DESCRIPTION>${escapeXml(p.description)}</DESCRIPTION>${p.values ? `<VALUES>${p.values}</VALUES>` : ''}</PARAM>`;
}

const numbers = (values: readonly number[]) => values.map(formatNumber).join(' ');

/**
 * A SODA service descriptor (DataLink 1.1 §4, SODA 1.0 §3): accessURL, standardID and the
 * input parameters; with one dataset, its coverage as VALUES (SODA §3.3: CIRCLE and POLYGON
 * get a MAX holding the covering circle / the footprint, BAND its MIN and MAX).
 */
export function sodaDescriptor(xmlId: 'cutout-sync' | 'cutout-async', accessUrl: string, coverage: Dataset | undefined): string {
  let footprint: Shape | undefined;
  try {
    footprint = coverage?.sRegion ? parseStcs(coverage.sRegion) : undefined;
  } catch {
    footprint = undefined;
  }
  const circle = footprint ? coveringCircle(footprint) : undefined;
  const band =
    coverage && coverage.emMin !== null && coverage.emMax !== null
      ? `<MIN value="${formatNumber(coverage.emMin)}"/><MAX value="${formatNumber(coverage.emMax)}"/>`
      : undefined;
  const time =
    coverage && coverage.tMin !== null && coverage.tMax !== null
      ? `<MIN value="${formatNumber(coverage.tMin)}"/><MAX value="${formatNumber(coverage.tMax)}"/>`
      : undefined;
  const params: ParamSpec[] = [
    {
      name: 'ID',
      datatype: 'char',
      arraysize: '*',
      ucd: 'meta.ref.url;meta.curation',
      description: 'The dataset identifier',
      ref: ID_FIELD,
    },
    {
      name: 'POS',
      datatype: 'char',
      arraysize: '*',
      ucd: 'pos.outline;obs',
      description: 'Region to cut out: CIRCLE ra dec r, RANGE ra1 ra2 dec1 dec2 or POLYGON ra1 dec1 … (ICRS degrees)',
    },
    {
      name: 'CIRCLE',
      datatype: 'double',
      arraysize: '3',
      xtype: 'circle',
      unit: 'deg',
      ucd: 'pos.outline;obs',
      description: 'Circle to cut out: ra dec radius (ICRS degrees)',
      values: circle ? `<MAX value="${numbers([circle.center.ra, circle.center.dec, circle.radius])}"/>` : undefined,
    },
    {
      name: 'POLYGON',
      datatype: 'double',
      arraysize: '*',
      xtype: 'polygon',
      unit: 'deg',
      ucd: 'pos.outline;obs',
      description: 'Polygon to cut out: ra1 dec1 ra2 dec2 … (ICRS degrees)',
      values: footprint?.kind === 'polygon' ? `<MAX value="${numbers(footprint.vertices.flatMap((v) => [v.ra, v.dec]))}"/>` : undefined,
    },
    {
      name: 'BAND',
      ...INTERVAL_PARAM,
      unit: 'm',
      ucd: 'em.wl;stat.interval',
      description: 'Wavelength interval (metres) the data must overlap',
      values: band,
    },
    {
      name: 'TIME',
      ...INTERVAL_PARAM,
      unit: 'd',
      ucd: 'time.interval;obs.exposure',
      description: 'Time interval (MJD) the data must overlap',
      values: time,
    },
    {
      name: 'RESPONSEFORMAT',
      datatype: 'char',
      arraysize: '*',
      ucd: 'meta.code.mime',
      description:
        'Media type of each cutout: application/fits (the default), or image/png or image/jpeg for a picture of its IMAGE plane (with STRETCH, CUTS, CMAP, PREVIEW_SIZE)',
      values: SODA_RESPONSE_FORMATS.map((format) => `<OPTION value="${format}"/>`).join(''),
    },
  ];
  return serviceDescriptorXml({
    utype: 'adhoc:service',
    id: xmlId,
    description: `${xmlId === 'cutout-sync' ? 'Synchronous' : 'Asynchronous (UWS)'} SODA cutout service`,
    standardId: xmlId === 'cutout-sync' ? SODA_SYNC_ID : SODA_ASYNC_ID,
    accessUrl,
    contentType: 'application/fits',
    params,
  });
}

export interface ServiceDescriptor {
  /** `adhoc:service` (a linked service, §4) or `adhoc:this` (the service describing itself). */
  utype: 'adhoc:service' | 'adhoc:this';
  id?: string;
  description: string;
  standardId: string;
  accessUrl: string;
  contentType?: string;
  params: readonly ParamSpec[];
}

/** A `<RESOURCE type="meta">` service descriptor (DataLink 1.1 §4). */
export function serviceDescriptorXml(d: ServiceDescriptor): string {
  return (
    `<RESOURCE type="meta" utype="${d.utype}"${d.id ? ` ID="${d.id}"` : ''}>\n` +
    `<DESCRIPTION>${escapeXml(d.description)}</DESCRIPTION>\n` +
    `<PARAM name="standardID" datatype="char" arraysize="*" value="${escapeXml(d.standardId)}"/>\n` +
    `<PARAM name="accessURL" datatype="char" arraysize="*" value="${escapeXml(d.accessUrl)}"/>\n` +
    (d.contentType ? `<PARAM name="contentType" datatype="char" arraysize="*" value="${escapeXml(d.contentType)}"/>\n` : '') +
    `<GROUP name="inputParams">\n${d.params.map(paramXml).join('\n')}\n</GROUP>\n</RESOURCE>\n`
  );
}
