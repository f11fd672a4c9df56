/**
 * Accuracy against astropy.wcs (wcslib): pixel → sky within 1 mas over the whole image, sky →
 * pixel agreeing with astropy's inversion and round-tripping within 1e-6 pixel.
 */
import { angularDistance } from '../../shared/sky';
import { headerFromRecord, parseWcs } from '../../shared/wcs';
import { describeWith } from '../helpers/tools';
import { type AstropyAnswer, runAstropy } from './astropy';
import { HEADERS, pixelGrid } from './headers';

const MAS_IN_DEG = 1 / 3_600_000;
describeWith('astropy', 'parseWcs agrees with astropy.wcs', () => {
  const grids = HEADERS.map(({ header }) => pixelGrid(header));
  let answers: AstropyAnswer[] = [];
  const report: string[] = [];

  beforeAll(() => {
    answers = runAstropy(HEADERS.map(({ header }, i) => ({ header, pixels: grids[i]! })));
  });

  afterAll(() => {
    console.log(`max errors against astropy.wcs:\n${report.join('\n')}`);
  });

  HEADERS.forEach(({ name, header }, index) => {
    it(name, () => {
      const wcs = parseWcs(headerFromRecord(header));
      const grid = grids[index]!;
      const answer = answers[index]!;
      let maxSeparationMas = 0;
      let maxVsAstropyInverse = 0;
      let maxRoundTrip = 0;
      grid.forEach(([x, y], k) => {
        const [ra, dec] = answer.sky[k]!;
        const ours = wcs.pixelToSky(x, y);
        const separation = angularDistance(ours, { ra, dec }) / MAS_IN_DEG;
        maxSeparationMas = Math.max(maxSeparationMas, separation);

        const pixel = wcs.skyToPixel(ra, dec);
        const [ax, ay] = answer.pixels[k]!;
        maxVsAstropyInverse = Math.max(maxVsAstropyInverse, Math.hypot(pixel.x - ax, pixel.y - ay));

        const back = wcs.skyToPixel(ours.ra, ours.dec);
        maxRoundTrip = Math.max(maxRoundTrip, Math.hypot(back.x - x, back.y - y));
      });
      report.push(
        `  ${name}: pixel→sky ${maxSeparationMas.toExponential(2)} mas, sky→pixel vs astropy ` +
          `${maxVsAstropyInverse.toExponential(2)} px, round trip ${maxRoundTrip.toExponential(2)} px`,
      );
      if (wcs.sip !== undefined) {
        // The comparison is sensitive: dropping the distortion moves positions by arcseconds.
        const plain = parseWcs(headerFromRecord({ ...header, CTYPE1: 'RA---TAN', CTYPE2: 'DEC--TAN' }));
        const worst = Math.max(
          ...grid.map(([x, y], k) => {
            const [ra, dec] = answer.sky[k]!;
            return angularDistance(plain.pixelToSky(x, y), { ra, dec }) / MAS_IN_DEG;
          }),
        );
        expect(worst).toBeGreaterThan(100);
      }
      expect(maxSeparationMas).toBeLessThanOrEqual(1);
      expect(maxVsAstropyInverse).toBeLessThanOrEqual(1e-6);
      expect(maxRoundTrip).toBeLessThanOrEqual(1e-6);
    });
  });
});
