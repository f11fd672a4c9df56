import { OBSCORE_DATA_MODEL } from '../../shared/obscore/columns';
import {
  adqlLanguage,
  capabilitiesXml,
  featureList,
  FEATURE_TYPES,
  geometryFeatures,
  OUTPUT_FORMAT_IDS,
  paramHttpCapability,
  STANDARD_IDS,
  supportCapabilities,
  tableAccessExtension,
  tapCapability,
  UPLOAD_METHODS,
  type TableAccess,
} from '../../shared/vosi';
import { child, childNames, children, parseDocument, type XmlElement } from './parse';

const TAP = 'http://example.org/api/tap';

const ACCESS: TableAccess = {
  dataModels: [{ name: 'ObsCore-1.1', ivoId: OBSCORE_DATA_MODEL }],
  languages: [
    adqlLanguage(
      ['2.0', '2.1'],
      [
        geometryFeatures(['POINT', 'CIRCLE', 'POLYGON', 'CONTAINS', 'INTERSECTS', 'DISTANCE']),
        featureList(FEATURE_TYPES.string, ['ILIKE']),
        featureList(FEATURE_TYPES.sets, ['UNION', 'EXCEPT', 'INTERSECT']),
      ],
      'ADQL <2.1> & 2.0',
    ),
  ],
  outputFormats: [
    { mime: 'application/x-votable+xml', aliases: ['votable'], ivoId: OUTPUT_FORMAT_IDS.votableBinary2 },
    { mime: 'text/csv;header=present', aliases: ['csv'] },
  ],
  uploadMethods: [UPLOAD_METHODS.inline, UPLOAD_METHODS.http],
  retentionPeriod: { default: 604800, hard: 2592000 },
  executionDuration: { default: 600, hard: 3600 },
  outputLimit: { unit: 'row', default: 100000, hard: 1000000 },
  uploadLimit: { unit: 'byte', hard: 100000000 },
};

function capabilities(xml: string): XmlElement[] {
  const root = parseDocument(xml);
  expect(root.name).toBe('vosi:capabilities');
  return root.children;
}

describe('VOSI capabilities document', () => {
  test('root in the VOSICapabilities namespace, with xsi, vr and vs declared', () => {
    const root = parseDocument(capabilitiesXml([]));
    expect(root.name).toBe('vosi:capabilities');
    expect(root.attributes).toEqual({
      'xmlns:vosi': 'http://www.ivoa.net/xml/VOSICapabilities/v1.0',
      'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance',
      'xmlns:vr': 'http://www.ivoa.net/xml/VOResource/v1.0',
      'xmlns:vs': 'http://www.ivoa.net/xml/VODataService/v1.1',
    });
    expect(root.children).toEqual([]);
  });

  test('support capabilities: unqualified <capability standardID>, ParamHTTP, use="full", siblings of the base URL', () => {
    const caps = capabilities(capabilitiesXml(supportCapabilities(`${TAP}/`, { tables: true, examples: true })));
    expect(caps.map((c) => c.name)).toEqual(['capability', 'capability', 'capability', 'capability']);
    expect(caps.map((c) => c.attributes)).toEqual([
      { standardID: 'ivo://ivoa.net/std/VOSI#capabilities' },
      { standardID: 'ivo://ivoa.net/std/VOSI#availability' },
      { standardID: 'ivo://ivoa.net/std/VOSI#tables-1.1' },
      { standardID: 'ivo://ivoa.net/std/DALI#examples' },
    ]);
    const interfaces = caps.map((c) => child(c, 'interface'));
    expect(interfaces.map((i) => i.attributes)).toEqual([
      { 'xsi:type': 'vs:ParamHTTP', role: 'std' },
      { 'xsi:type': 'vs:ParamHTTP', role: 'std' },
      { 'xsi:type': 'vs:ParamHTTP', role: 'std', version: '1.1' },
      { 'xsi:type': 'vr:WebBrowser' },
    ]);
    const urls = interfaces.map((i) => child(i, 'accessURL'));
    expect(urls.map((u) => [u.attributes.use, u.text])).toEqual([
      ['full', `${TAP}/capabilities`],
      ['full', `${TAP}/availability`],
      ['full', `${TAP}/tables`],
      ['full', `${TAP}/examples`],
    ]);
  });

  test('without tables and examples only capabilities and availability are declared', () => {
    const caps = capabilities(capabilitiesXml(supportCapabilities('http://example.org/api/cutout')));
    expect(caps.map((c) => c.attributes.standardID)).toEqual([STANDARD_IDS.vosiCapabilities, STANDARD_IDS.vosiAvailability]);
  });

  test('the standardIDs of the image services', () => {
    expect(STANDARD_IDS).toMatchObject({
      tap: 'ivo://ivoa.net/std/TAP',
      sodaSync: 'ivo://ivoa.net/std/SODA#sync-1.0',
      sodaAsync: 'ivo://ivoa.net/std/SODA#async-1.0',
      siaQuery: 'ivo://ivoa.net/std/SIA#query-2.0',
      datalinkLinks: 'ivo://ivoa.net/std/DataLink#links-1.1',
      daliExamples: 'ivo://ivoa.net/std/DALI#examples',
    });
  });

  test('a ParamHTTP interface in schema order: accessURL, securityMethod, queryType, resultType, param', () => {
    const xml = capabilitiesXml([
      paramHttpCapability(STANDARD_IDS.sodaSync, 'http://example.org/api/cutout/sync?a=1&b=2', {
        version: '1.0',
        securityMethods: ['ivo://ivoa.net/sso#token'],
        queryTypes: ['GET', 'POST'],
        resultType: 'application/fits',
        params: [
          { name: 'ID', ucd: 'meta.ref.url;meta.curation', use: 'required', dataType: { datatype: 'char', arraysize: '*' } },
          {
            name: 'CIRCLE',
            description: 'a <circle> & "more"',
            unit: 'deg',
            ucd: 'pos.outline;obs',
            dataType: { datatype: 'double', arraysize: '3', xtype: 'circle' },
          },
          { name: 'RUNID', std: false },
        ],
      }),
    ]);
    expect(xml).toContain('sync?a=1&amp;b=2');
    const [capability] = capabilities(xml);
    expect(capability!.attributes).toEqual({ standardID: 'ivo://ivoa.net/std/SODA#sync-1.0' });
    const face = child(capability!, 'interface');
    expect(face.attributes).toEqual({ 'xsi:type': 'vs:ParamHTTP', role: 'std', version: '1.0' });
    expect(childNames(face)).toEqual(['accessURL', 'securityMethod', 'queryType', 'queryType', 'resultType', 'param', 'param', 'param']);
    expect(child(face, 'accessURL').text).toBe('http://example.org/api/cutout/sync?a=1&b=2');
    expect(child(face, 'securityMethod').attributes).toEqual({ standardID: 'ivo://ivoa.net/sso#token' });
    expect(children(face, 'queryType').map((q) => q.text)).toEqual(['GET', 'POST']);
    const [id, circle, runid] = children(face, 'param');
    expect(id!.attributes).toEqual({ use: 'required' });
    expect(childNames(id!)).toEqual(['name', 'ucd', 'dataType']);
    expect(childNames(circle!)).toEqual(['name', 'description', 'unit', 'ucd', 'dataType']);
    expect(child(circle!, 'description').text).toBe('a <circle> & "more"');
    expect(child(circle!, 'dataType').attributes).toEqual({ 'xsi:type': 'vs:VOTableType', arraysize: '3', extendedType: 'circle' });
    expect(child(circle!, 'dataType').text).toBe('double');
    expect(runid!.attributes).toEqual({ std: 'false' });
  });

  test('a capability description precedes its interfaces', () => {
    const [capability] = capabilities(
      capabilitiesXml([{ ...paramHttpCapability(STANDARD_IDS.siaQuery, 'http://x/sia/query'), description: 'SIA 2.0 query' }]),
    );
    expect(childNames(capability!)).toEqual(['description', 'interface']);
  });
});

describe('TAP capability with TAPRegExt', () => {
  const [tap] = capabilities(capabilitiesXml([tapCapability(TAP, ACCESS)]));

  test('tr:TableAccess on the capability, its namespace declared there, standardID spelled standardID', () => {
    expect(tap!.attributes).toEqual({
      'xmlns:tr': 'http://www.ivoa.net/xml/TAPRegExt/v1.0',
      standardID: 'ivo://ivoa.net/std/TAP',
      'xsi:type': 'tr:TableAccess',
    });
  });

  test('the standard interface: ParamHTTP, role std, version 1.1, base URL', () => {
    const face = child(tap!, 'interface');
    expect(face.attributes).toEqual({ 'xsi:type': 'vs:ParamHTTP', role: 'std', version: '1.1' });
    expect(child(face, 'accessURL').attributes).toEqual({ use: 'base' });
    expect(child(face, 'accessURL').text).toBe(TAP);
  });

  test('children in the TableAccess sequence', () => {
    expect(childNames(tap!)).toEqual([
      'interface',
      'dataModel',
      'language',
      'outputFormat',
      'outputFormat',
      'uploadMethod',
      'uploadMethod',
      'retentionPeriod',
      'executionDuration',
      'outputLimit',
      'uploadLimit',
    ]);
  });

  test('data model with ivo-id', () => {
    const model = child(tap!, 'dataModel');
    expect(model.attributes).toEqual({ 'ivo-id': 'ivo://ivoa.net/std/ObsCore#core-1.1' });
    expect(model.text).toBe('ObsCore-1.1');
  });

  test('ADQL 2.0 and 2.1 with their IVOIDs, the description escaped, then the declared features', () => {
    const language = child(tap!, 'language');
    expect(childNames(language)).toEqual([
      'name',
      'version',
      'version',
      'description',
      'languageFeatures',
      'languageFeatures',
      'languageFeatures',
    ]);
    expect(child(language, 'name').text).toBe('ADQL');
    expect(children(language, 'version').map((v) => [v.text, v.attributes['ivo-id']])).toEqual([
      ['2.0', 'ivo://ivoa.net/std/ADQL#v2.0'],
      ['2.1', 'ivo://ivoa.net/std/ADQL#v2.1'],
    ]);
    expect(child(language, 'description').text).toBe('ADQL <2.1> & 2.0');
    const lists = children(language, 'languageFeatures');
    expect(lists.map((l) => l.attributes.type)).toEqual([
      'ivo://ivoa.net/std/TAPRegExt#features-adqlgeo',
      'ivo://ivoa.net/std/TAPRegExt#features-adql-string',
      'ivo://ivoa.net/std/TAPRegExt#features-adql-sets',
    ]);
    const forms = lists.map((l) => children(l, 'feature').map((f) => child(f, 'form').text));
    expect(forms).toEqual([
      ['POINT', 'CIRCLE', 'POLYGON', 'CONTAINS', 'INTERSECTS', 'DISTANCE'],
      ['ILIKE'],
      ['UNION', 'EXCEPT', 'INTERSECT'],
    ]);
  });

  test('output formats: mime, aliases, standard ivo-id only where given', () => {
    const formats = children(tap!, 'outputFormat');
    expect(formats.map((f) => f.attributes)).toEqual([{ 'ivo-id': 'ivo://ivoa.net/std/TAPRegExt#output-votable-binary2' }, {}]);
    expect(formats.map((f) => childNames(f))).toEqual([
      ['mime', 'alias'],
      ['mime', 'alias'],
    ]);
    expect(formats.map((f) => child(f, 'mime').text)).toEqual(['application/x-votable+xml', 'text/csv;header=present']);
  });

  test('upload methods and limits', () => {
    expect(children(tap!, 'uploadMethod').map((m) => m.attributes['ivo-id'])).toEqual([
      'ivo://ivoa.net/std/TAPRegExt#upload-inline',
      'ivo://ivoa.net/std/TAPRegExt#upload-http',
    ]);
    const limits = (name: string) => child(tap!, name).children.map((c) => [c.name, c.text, c.attributes.unit]);
    expect(limits('retentionPeriod')).toEqual([
      ['default', '604800', undefined],
      ['hard', '2592000', undefined],
    ]);
    expect(limits('executionDuration')).toEqual([
      ['default', '600', undefined],
      ['hard', '3600', undefined],
    ]);
    expect(limits('outputLimit')).toEqual([
      ['default', '100000', 'row'],
      ['hard', '1000000', 'row'],
    ]);
    expect(limits('uploadLimit')).toEqual([['hard', '100000000', 'byte']]);
  });

  test('lists only what it is given: no data model, upload or limit elements when none are declared', () => {
    const [minimal] = capabilities(
      capabilitiesXml([tapCapability(TAP, { languages: [adqlLanguage(['2.0'])], outputFormats: [{ mime: 'application/x-votable+xml' }] })]),
    );
    expect(childNames(minimal!)).toEqual(['interface', 'language', 'outputFormat']);
    expect(childNames(child(minimal!, 'language'))).toEqual(['name', 'version']);
  });

  test('further interfaces follow the standard one', () => {
    const extra = {
      type: 'vs:ParamHTTP',
      accessURL: `${TAP}/auth`,
      use: 'base',
      role: 'std',
      version: '1.1',
      securityMethods: ['ivo://ivoa.net/sso#token'],
    } as const;
    const [withAuth] = capabilities(capabilitiesXml([tapCapability(TAP, ACCESS, [extra])]));
    expect(children(withAuth!, 'interface').map((i) => child(i, 'accessURL').text)).toEqual([TAP, `${TAP}/auth`]);
  });

  test('TableAccess requires a language and an output format', () => {
    expect(() => tableAccessExtension({ ...ACCESS, languages: [] })).toThrow(/language/);
    expect(() => tableAccessExtension({ ...ACCESS, outputFormats: [] })).toThrow(/output format/);
  });
});
