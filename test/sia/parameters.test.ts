/** The parameter descriptions for the capabilities and the adhoc:this descriptor (SIA 2.0 §2.1.20, §3.1.2). */
import { OBSCORE_COLUMNS } from '../../shared/obscore/columns';
import { SIA_CONSTRAINT_NAMES, SIA_ERROR_LABELS, SIA_PARAMETERS, SiaError, type SiaParameter } from '../../shared/sia';

const byName = (name: string): SiaParameter => {
  const parameter = SIA_PARAMETERS.find((p) => p.name === name);
  if (parameter === undefined) throw new Error(`no ${name}`);
  return parameter;
};

test('every constraint parameter of §2.1, then MAXREC and RESPONSEFORMAT, each once', () => {
  expect(SIA_PARAMETERS.map((p) => p.name)).toEqual([...SIA_CONSTRAINT_NAMES, 'MAXREC', 'RESPONSEFORMAT']);
  expect(SIA_CONSTRAINT_NAMES).toEqual([
    'POS',
    'BAND',
    'TIME',
    'POL',
    'FOV',
    'SPATRES',
    'EXPTIME',
    'ID',
    'COLLECTION',
    'FACILITY',
    'INSTRUMENT',
    'DPTYPE',
    'CALIB',
    'TARGET',
    'TIMERES',
    'SPECRP',
    'FORMAT',
  ]);
});

test.each<[string, Partial<SiaParameter>]>([
  ['POS', { datatype: 'char', arraysize: '*', xtype: undefined, unit: undefined, ucd: 'pos.outline;obs', columns: ['s_region'] }],
  ['BAND', { datatype: 'double', arraysize: '2', xtype: 'interval', unit: 'm', ucd: 'em.wl;stat.interval', columns: ['em_min', 'em_max'] }],
  [
    'TIME',
    { datatype: 'double', arraysize: '2', xtype: 'interval', unit: 'd', ucd: 'time.interval;obs.exposure', columns: ['t_min', 't_max'] },
  ],
  [
    'POL',
    {
      datatype: 'char',
      ucd: 'meta.code;phys.polarization',
      options: ['I', 'Q', 'U', 'V', 'RR', 'LL', 'RL', 'LR', 'XX', 'YY', 'XY', 'YX', 'POLI', 'POLA'],
    },
  ],
  ['FOV', { datatype: 'double', xtype: 'interval', unit: 'deg', ucd: 'phys.angSize;instr.fov', columns: ['s_fov'] }],
  ['SPATRES', { xtype: 'interval', unit: 'arcsec', ucd: 'pos.angResolution', columns: ['s_resolution'] }],
  ['EXPTIME', { xtype: 'interval', unit: 's', ucd: 'time.duration;obs.exposure', columns: ['t_exptime'] }],
  ['TIMERES', { xtype: 'interval', unit: 's', ucd: 'time.resolution', columns: ['t_resolution'] }],
  ['SPECRP', { xtype: 'interval', unit: undefined, ucd: 'spect.resolution', columns: ['em_res_power'] }],
  ['ID', { datatype: 'char', arraysize: '*', ucd: 'meta.ref.ivoid', columns: ['obs_publisher_did'] }],
  ['COLLECTION', { ucd: 'meta.id', columns: ['obs_collection'], options: undefined }],
  ['FACILITY', { ucd: 'meta.id;instr.tel', columns: ['facility_name'] }],
  ['INSTRUMENT', { ucd: 'meta.id;instr', columns: ['instrument_name'] }],
  ['DPTYPE', { ucd: 'meta.code.class', options: ['image', 'cube'], columns: ['dataproduct_type'] }],
  [
    'CALIB',
    { datatype: 'int', arraysize: undefined, ucd: 'meta.code;obs.calib', options: ['0', '1', '2', '3', '4'], columns: ['calib_level'] },
  ],
  ['TARGET', { ucd: 'meta.id;src', columns: ['target_name'] }],
  ['FORMAT', { ucd: 'meta.code.mime', columns: ['access_format'] }],
  ['MAXREC', { datatype: 'int', arraysize: undefined }],
  ['RESPONSEFORMAT', { datatype: 'char', arraysize: '*' }],
])('%s', (name, expected) => {
  const parameter = byName(name);
  // toEqual, not toMatchObject: an expected `undefined` must be absent or undefined.
  expect(Object.fromEntries(Object.keys(expected).map((key) => [key, parameter[key as keyof SiaParameter]]))).toEqual(expected);
  expect(parameter.description.length).toBeGreaterThan(10);
});

test('the columns the parameters name are ObsCore columns', () => {
  const names = new Set(OBSCORE_COLUMNS.map((c) => c.name));
  for (const parameter of SIA_PARAMETERS) for (const column of parameter.columns ?? []) expect(names.has(column)).toBe(true);
});

test('SiaError: the §3.2 label, a colon, the detail', () => {
  expect(SIA_ERROR_LABELS).toEqual(['UsageFault', 'TransientFault', 'FatalFault', 'DefaultFault']);
  const err = new SiaError('TransientFault', 'the ObsCore store is not available');
  expect(err.message).toBe('TransientFault: the ObsCore store is not available');
  expect(err.label).toBe('TransientFault');
  expect(err.detail).toBe('the ObsCore store is not available');
  expect(err.name).toBe('SiaError');
});
