/** Test headers covering the supported WCS forms, and a least-squares fit of SIP AP/BP. */
import { fitReverseSip, type HeaderValue, type SipPolynomial, type SipTerm } from '../../shared/wcs';

export type Header = Record<string, HeaderValue>;

const deg = Math.PI / 180;

function image(n1: number, n2: number): Header {
  return { NAXIS: 2, NAXIS1: n1, NAXIS2: n2 };
}

/** HSC/Rubin-like forward SIP: ~1e-6 at order 2, ~1e-10 at order 3 (a few pixels at the corners). */
const SIP_A: Header = {
  A_ORDER: 3,
  A_2_0: 1.21e-6,
  A_1_1: -2.3e-6,
  A_0_2: 6.7e-7,
  A_3_0: -1.4e-10,
  A_2_1: 2.1e-11,
  A_1_2: -9.6e-11,
  A_0_3: 3.3e-11,
};
const SIP_B: Header = {
  B_ORDER: 3,
  B_2_0: -8.9e-7,
  B_1_1: 1.7e-6,
  B_0_2: -1.05e-6,
  B_3_0: 2.8e-11,
  B_2_1: -1.2e-10,
  B_1_2: 4.4e-11,
  B_0_3: -1.6e-10,
};

function sipBase(): Header {
  return {
    ...image(2048, 4176),
    CTYPE1: 'RA---TAN-SIP',
    CTYPE2: 'DEC--TAN-SIP',
    CRPIX1: 1024.37,
    CRPIX2: 2088.81,
    CRVAL1: 150.0921,
    CRVAL2: 2.2053,
    CD1_1: -4.66e-5,
    CD1_2: 3.1e-7,
    CD2_1: 2.9e-7,
    CD2_2: 4.66e-5,
    RADESYS: 'ICRS',
    ...SIP_A,
    ...SIP_B,
  };
}

/** The SIP polynomial `name` (A, B) of a header record. */
function polynomial(header: Header, name: string): SipPolynomial {
  const order = header[`${name}_ORDER`] as number;
  const terms: SipTerm[] = [];
  for (let p = 0; p <= order; p++) {
    for (let q = 0; p + q <= order; q++) {
      const coefficient = header[`${name}_${p}_${q}`];
      if (typeof coefficient === 'number') terms.push({ p, q, coefficient });
    }
  }
  return { order, terms };
}

/** AP/BP of `order` fitted by least squares over the image (shared/wcs fitReverseSip), as header cards. */
export function fitInverseSip(header: Header, order: number): Header {
  const { ap, bp } = fitReverseSip(polynomial(header, 'A'), polynomial(header, 'B'), {
    width: header.NAXIS1 as number,
    height: header.NAXIS2 as number,
    crpix: [header.CRPIX1 as number, header.CRPIX2 as number],
    order,
    margin: 0,
    grid: 40,
  });
  const result: Header = { AP_ORDER: order, BP_ORDER: order };
  for (const [name, poly] of [
    ['AP', ap],
    ['BP', bp],
  ] as const) {
    for (const { p, q, coefficient } of poly.terms) result[`${name}_${p}_${q}`] = coefficient;
  }
  return result;
}

export interface NamedHeader {
  readonly name: string;
  readonly header: Header;
}

export const HEADERS: readonly NamedHeader[] = [
  {
    name: 'TAN with CD matrix',
    header: {
      ...image(2048, 4096),
      CTYPE1: 'RA---TAN',
      CTYPE2: 'DEC--TAN',
      CRPIX1: 1024.5,
      CRPIX2: 2048.5,
      CRVAL1: 150.1,
      CRVAL2: 2.2,
      CD1_1: -7.3e-5,
      CD1_2: 1.2e-6,
      CD2_1: 1.1e-6,
      CD2_2: 7.3e-5,
      RADESYS: 'ICRS',
    },
  },
  {
    name: 'PC + CDELT rotated 30°',
    header: {
      ...image(1000, 1200),
      CTYPE1: 'RA---TAN',
      CTYPE2: 'DEC--TAN',
      CUNIT1: 'deg',
      CUNIT2: 'deg',
      CRPIX1: 300.25,
      CRPIX2: 800.75,
      CRVAL1: 83.8221,
      CRVAL2: -5.3911,
      CDELT1: -2.7777777777777e-4,
      CDELT2: 2.7777777777777e-4,
      PC1_1: Math.cos(30 * deg),
      PC1_2: -Math.sin(30 * deg),
      PC2_1: Math.sin(30 * deg),
      PC2_2: Math.cos(30 * deg),
      RADESYS: 'FK5',
      EQUINOX: 2000,
    },
  },
  { name: 'TAN-SIP order 3 without AP/BP', header: sipBase() },
  { name: 'TAN-SIP order 3 with fitted AP/BP (order 4)', header: { ...sipBase(), ...fitInverseSip(sipBase(), 4) } },
  {
    name: 'TAN-SIP with PC + CDELT instead of CD',
    header: (() => {
      const { CD1_1: _a, CD1_2: _b, CD2_1: _c, CD2_2: _d, ...rest } = sipBase();
      return { ...rest, CDELT1: -4.66e-5, CDELT2: 4.66e-5, PC1_1: 0.9998, PC1_2: -0.02, PC2_1: 0.02, PC2_2: 0.9998 };
    })(),
  },
  {
    name: 'near the south pole (Dec -89.5, image contains the pole)',
    header: {
      ...image(4096, 4096),
      CTYPE1: 'RA---TAN',
      CTYPE2: 'DEC--TAN',
      CRPIX1: 2048.5,
      CRPIX2: 2048.5,
      CRVAL1: 45,
      CRVAL2: -89.5,
      CD1_1: -2.7777777777777e-4,
      CD1_2: 0,
      CD2_1: 0,
      CD2_2: 2.7777777777777e-4,
    },
  },
  {
    name: 'straddling RA 0',
    header: {
      ...image(3000, 3000),
      CTYPE1: 'RA---TAN',
      CTYPE2: 'DEC--TAN',
      CRPIX1: 1500.5,
      CRPIX2: 1500.5,
      CRVAL1: 0.05,
      CRVAL2: 10,
      CD1_1: -1e-4,
      CD1_2: 0,
      CD2_1: 0,
      CD2_2: 1e-4,
      RADESYS: 'ICRS',
    },
  },
  {
    name: 'flipped parity (CD1_1 > 0)',
    header: {
      ...image(1500, 1000),
      CTYPE1: 'RA---TAN',
      CTYPE2: 'DEC--TAN',
      CRPIX1: 700,
      CRPIX2: 480,
      CRVAL1: 210.8,
      CRVAL2: 54.35,
      CD1_1: 5.1e-5,
      CD1_2: 4e-6,
      CD2_1: 3.5e-6,
      CD2_2: 5.1e-5,
      RADESYS: 'ICRS',
    },
  },
  {
    name: 'CDELT + CROTA2 (AIPS convention)',
    header: {
      ...image(800, 600),
      CTYPE1: 'RA---TAN',
      CTYPE2: 'DEC--TAN',
      CRPIX1: 400.5,
      CRPIX2: 300.5,
      CRVAL1: 266.4,
      CRVAL2: -28.9,
      CDELT1: -1e-4,
      CDELT2: 1.2e-4,
      CROTA2: -15,
    },
  },
  {
    name: 'axes swapped (DEC first)',
    header: {
      ...image(1024, 768),
      CTYPE1: 'DEC--TAN',
      CTYPE2: 'RA---TAN',
      CRPIX1: 512,
      CRPIX2: 384,
      CRVAL1: 33.3,
      CRVAL2: 12.5,
      CD1_1: 1e-4,
      CD1_2: 2e-6,
      CD2_1: -1.5e-6,
      CD2_2: -1e-4,
    },
  },
  {
    name: 'reference point at the north pole (LONPOLE default 0)',
    header: {
      ...image(1200, 1200),
      CTYPE1: 'RA---TAN',
      CTYPE2: 'DEC--TAN',
      CRPIX1: 600.5,
      CRPIX2: 600.5,
      CRVAL1: 0,
      CRVAL2: 90,
      CD1_1: -2e-4,
      CD1_2: 0,
      CD2_1: 0,
      CD2_2: 2e-4,
    },
  },
];

/** A grid over the whole image: outer pixel edges, corners, centres and deterministic interior points. */
export function pixelGrid(header: Header, steps = 10, interior = 40): Array<[number, number]> {
  const n1 = header.NAXIS1 as number;
  const n2 = header.NAXIS2 as number;
  const points: Array<[number, number]> = [];
  for (let i = 0; i <= steps; i++) {
    for (let j = 0; j <= steps; j++) points.push([0.5 + (n1 * i) / steps, 0.5 + (n2 * j) / steps]);
  }
  points.push([1, 1], [n1, n2], [(n1 + 1) / 2, (n2 + 1) / 2], [header.CRPIX1 as number, header.CRPIX2 as number]);
  let seed = 12345;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let k = 0; k < interior; k++) points.push([0.5 + n1 * random(), 0.5 + n2 * random()]);
  return points;
}
