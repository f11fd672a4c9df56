/**
 * LSST filter bands: wavelength limits in metres (ObsCore em_min/em_max, SI units),
 * from the LSST system throughput edges (half-maximum points, rounded to nm).
 */
export interface Band {
  name: string;
  emMin: number;
  emMax: number;
}

export const LSST_BANDS: Readonly<Record<string, Band>> = {
  u: { name: 'u', emMin: 330e-9, emMax: 400e-9 },
  g: { name: 'g', emMin: 402e-9, emMax: 552e-9 },
  r: { name: 'r', emMin: 552e-9, emMax: 691e-9 },
  i: { name: 'i', emMin: 691e-9, emMax: 818e-9 },
  z: { name: 'z', emMin: 818e-9, emMax: 922e-9 },
  y: { name: 'y', emMin: 949e-9, emMax: 1060e-9 },
};

export function bandOf(name: string | undefined): Band | undefined {
  return name === undefined ? undefined : LSST_BANDS[name.trim().toLowerCase()];
}
