/**
 * SIA 2.0 queries (runs in a worker thread): parameters → SQL over ivoa.ObsCore
 * (shared/sia, R*Tree-prefiltered, every value bound) → the ObsCore-shaped VOTable with
 * MAXREC/overflow and the service's self-description (an `adhoc:this` descriptor, SIA 2.0
 * §3.2). Errors are UsageFault… messages for the VOTable error document.
 */
import type { Config } from '../../shared/config';
import { serviceDescriptorXml } from '../../shared/datalink/links';
import { reportWork } from '../../shared/metrics/work';
import { OBSCORE_COLUMNS } from '../../shared/obscore/columns';
import { buildSiaQuery, SIA_PARAMETERS, SiaError } from '../../shared/sia';
import { openResult } from '../../shared/uws/results';
import { JobFailure, type ProcessorInput, type ProducedResult } from '../../shared/uws/service';
import { columnField, createWriter, FILE_EXTENSIONS, RESPONSE_FORMATS_HINT, resolveFormat, type FieldDef } from '../../shared/votable';
import { obscoreConnection, writeRows } from '../obscore';

export const SIA_QUERY_ID = 'ivo://ivoa.net/std/SIA#query-2.0';

const FIELDS: FieldDef[] = OBSCORE_COLUMNS.map((c) => columnField(c, c.description));

/** The `adhoc:this` descriptor: the query parameters this service takes. */
function selfDescription(baseUrl: string): string {
  return serviceDescriptorXml({
    utype: 'adhoc:this',
    description: 'SIA 2.0 query service: all parameters repeatable (OR), different parameters combined (AND)',
    standardId: SIA_QUERY_ID,
    accessUrl: `${baseUrl}/api/sia/query`,
    params: SIA_PARAMETERS.map((p) => ({
      name: p.name,
      datatype: p.datatype,
      arraysize: p.arraysize,
      xtype: p.xtype,
      unit: p.unit,
      ucd: p.ucd,
      description: p.description,
      values: p.options ? p.options.map((o) => `<OPTION value="${o}"/>`).join('') : undefined,
    })),
  });
}

/** `config`: the worker's, from the thread's parent (worker/thread.ts). */
export async function process(input: ProcessorInput, config: Config): Promise<ProducedResult[]> {
  let query: ReturnType<typeof buildSiaQuery>;
  try {
    query = buildSiaQuery(input.parameters, config.tap, input.baseUrl);
  } catch (err) {
    if (err instanceof SiaError) throw new JobFailure(err.message);
    throw err;
  }
  const format = resolveFormat(query.responseFormat);
  if (!format) throw new JobFailure(`UsageFault: RESPONSEFORMAT=${query.responseFormat} is not supported (${RESPONSE_FORMATS_HINT})`);
  const db = obscoreConnection(config.obscoreDb);
  const output = openResult(input, 'result', `result.${FILE_EXTENSIONS[format.format]}`, format.contentType);
  const writer = createWriter(format.format, output.stream);
  await writer.begin(FIELDS, { extraResources: selfDescription(input.baseUrl) });
  const overflow = await writeRows({ db, sql: query.sql, params: query.params, columnCount: FIELDS.length, cacheable: true }, writer, {
    maxrec: query.maxrec,
    nativeRows: config.nativeRows,
  });
  await writer.end(overflow);
  reportWork({ rows: writer.rowCount });
  return [output.result()];
}
