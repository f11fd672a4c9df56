import { type Card, FitsError, Header, formatCard, formatFloat, normalizeKeyword, parseCards, scalarLookup } from '../../shared/fits';
import { headerBlock, prng, rec } from './helpers';

/** Parses records (without END) to cards. */
function parse(...records: string[]): Card[] {
  return parseCards(records.map(rec));
}

function one(record: string): Card {
  const cards = parse(record);
  expect(cards).toHaveLength(1);
  return cards[0]!;
}

describe('card parsing', () => {
  test('strings: doubled quotes, trailing spaces dropped, leading kept, slash inside', () => {
    expect(one("OBSERVER= 'O''Brien '           / who observed")).toEqual({
      keyword: 'OBSERVER',
      type: 'string',
      value: "O'Brien",
      comment: 'who observed',
    });
    expect(one("EXTNAME = 'SCI     '")).toEqual({ keyword: 'EXTNAME', type: 'string', value: 'SCI' });
    expect(one("LEAD    = '  two spaces'")).toMatchObject({ value: '  two spaces' });
    expect(one("EMPTY   = ''")).toMatchObject({ type: 'string', value: '' });
    expect(one("BLANKS  = '        '")).toMatchObject({ type: 'string', value: '' });
    expect(one("PATH    = 'a/b/c'  / a path / with slashes")).toMatchObject({
      value: 'a/b/c',
      comment: 'a path / with slashes',
    });
    expect(one("QUOTES  = ''''''")).toMatchObject({ value: "''" });
  });

  test('logicals, integers (including beyond 2^53), floats with E and D exponents', () => {
    expect(one('SIMPLE  =                    T / conforms')).toEqual({
      keyword: 'SIMPLE',
      type: 'logical',
      value: true,
      comment: 'conforms',
    });
    expect(one('FLAG    =                    F')).toMatchObject({ type: 'logical', value: false });
    expect(one('NAXIS1  =                 4096')).toEqual({ keyword: 'NAXIS1', type: 'integer', value: 4096 });
    expect(one('NEG     =                  -42')).toMatchObject({ type: 'integer', value: -42 });
    expect(one('PLUS    =                  +17')).toMatchObject({ type: 'integer', value: 17 });
    expect(one('BIG     = 123456789012345678901234567890')).toMatchObject({
      type: 'integer',
      value: 123456789012345678901234567890n,
    });
    expect(one('BZERO   =  9223372036854775808')).toMatchObject({ type: 'integer', value: 9223372036854775808n });
    expect(one('EXPTIME =                 30.5 / seconds')).toEqual({
      keyword: 'EXPTIME',
      type: 'float',
      value: 30.5,
      comment: 'seconds',
    });
    expect(one('DEXP    =              1.0D+03')).toMatchObject({ type: 'float', value: 1000 });
    expect(one('DEXP2   =             -2.5d-03')).toMatchObject({ type: 'float', value: -0.0025 });
    expect(one('EEXP    =             6.02E23')).toMatchObject({ type: 'float', value: 6.02e23 });
    expect(one('DOTONLY =                   1.')).toMatchObject({ type: 'float', value: 1 });
    expect(one('LEADDOT =                  .25')).toMatchObject({ type: 'float', value: 0.25 });
    expect(Object.is(one('NEGZERO =                 -0.0').value, -0)).toBe(true);
  });

  test('complex values, integer and real', () => {
    expect(one('CPLX    =           (1.0, 2.0) / complex')).toEqual({
      keyword: 'CPLX',
      type: 'complex',
      value: { re: 1, im: 2 },
      comment: 'complex',
    });
    expect(one('CPLXI   =              (3, -4)')).toMatchObject({ type: 'complex', value: { re: 3, im: -4 } });
    expect(one('CPLXD   = ( 1.5D2 ,-2.5E-1 )')).toMatchObject({ value: { re: 150, im: -0.25 } });
  });

  test('undefined values, with and without comment', () => {
    expect(one('UNDEF   =                      / nothing known')).toEqual({
      keyword: 'UNDEF',
      type: 'undefined',
      value: null,
      comment: 'nothing known',
    });
    expect(one('UNDEF2  =')).toEqual({ keyword: 'UNDEF2', type: 'undefined', value: null });
  });

  test('commentary cards: COMMENT, HISTORY, blank keyword, keyword without value indicator', () => {
    expect(one('COMMENT   This is a comment / not a comment field')).toEqual({
      keyword: 'COMMENT',
      type: 'commentary',
      value: '  This is a comment / not a comment field',
    });
    expect(one('HISTORY = looks like a value')).toEqual({
      keyword: 'HISTORY',
      type: 'commentary',
      value: '= looks like a value',
    });
    expect(one('        blank keyword text')).toEqual({ keyword: '', type: 'commentary', value: 'blank keyword text' });
    expect(one('NOVALUE  no indicator here')).toEqual({ keyword: 'NOVALUE', type: 'commentary', value: ' no indicator here' });
  });

  test('values that are no FITS form are kept verbatim', () => {
    expect(one('DATE    = 2020-01-01 / unquoted')).toEqual({
      keyword: 'DATE',
      type: 'unparsed',
      value: '2020-01-01',
      comment: 'unquoted',
    });
  });

  test('HIERARCH keywords', () => {
    expect(one("HIERARCH ESO DET CHIP NAME = 'CCD-1   ' / chip name")).toEqual({
      keyword: 'ESO DET CHIP NAME',
      type: 'string',
      value: 'CCD-1',
      comment: 'chip name',
      hierarch: true,
    });
    expect(one('HIERARCH ESO DET CHIP = 3')).toEqual({ keyword: 'ESO DET CHIP', type: 'integer', value: 3, hierarch: true });
    expect(one('HIERARCH ESO TEL  AIRM   START= 1.234D0 / airmass')).toMatchObject({
      keyword: 'ESO TEL AIRM START',
      type: 'float',
      value: 1.234,
      comment: 'airmass',
      hierarch: true,
    });
    expect(one('HIERARCH ESO FLAG = T')).toMatchObject({ type: 'logical', value: true });
  });

  test('CONTINUE long strings join pieces and comments', () => {
    const cards = parse(
      "LONGSTR = 'This is a long string value that does not fit on one card so it &'",
      "CONTINUE  'continues on the next card, with ''quotes'' too &' / first part",
      "CONTINUE  'and ends here'  / of the comment",
      'NEXT    =                    1',
    );
    expect(cards).toEqual([
      {
        keyword: 'LONGSTR',
        type: 'string',
        value:
          "This is a long string value that does not fit on one card so it continues on the next card, with 'quotes' too and ends here",
        comment: 'first part of the comment',
      },
      { keyword: 'NEXT', type: 'integer', value: 1 },
    ]);
  });

  test("astropy-style comment-only CONTINUE '' records and an '&' with no CONTINUE", () => {
    expect(parse("LONG    = 'abc&'", "CONTINUE  'def&'", "CONTINUE  '&' / comment one", "CONTINUE  '' / comment two")).toEqual([
      { keyword: 'LONG', type: 'string', value: 'abcdef', comment: 'comment one comment two' },
    ]);
    // '&' is only a continuation marker when a CONTINUE record follows.
    expect(parse("AMP     = 'ends with &'", 'X       =                    2')[0]).toMatchObject({ value: 'ends with &' });
    // A CONTINUE that continues nothing is kept as text.
    expect(parse('A       =                    1', "CONTINUE  'orphan'")[1]).toEqual({
      keyword: 'CONTINUE',
      type: 'commentary',
      value: "  'orphan'",
    });
  });

  test('Header.parse stops at END and requires it', () => {
    const text = headerBlock(['SIMPLE  =                    T', 'BITPIX  =                  -32', "OBJECT  = 'M31'"]);
    const h = Header.parse(text);
    expect(h.cards.map((c) => c.keyword)).toEqual(['SIMPLE', 'BITPIX', 'OBJECT']);
    expect(Header.parse(Buffer.from(text, 'latin1')).getString('OBJECT')).toBe('M31');
    expect(() => Header.parse(rec('SIMPLE  =                    T'))).toThrow(FitsError);
  });
});

describe('Header accessors and setters', () => {
  const make = (): Header =>
    Header.parse(
      headerBlock([
        'SIMPLE  =                    T',
        'BITPIX  =                   16',
        "EXTNAME = 'IMAGE   '           / name",
        'CRPIX1  =                100.0 / reference pixel',
        'BZERO   =  9223372036854775808',
        'UNDEF   =',
        'COMMENT first',
        'HISTORY step 1',
        'COMMENT second',
        "HIERARCH ESO DET CHIP = 'CCD'",
      ]),
    );

  test('typed getters', () => {
    const h = make();
    expect(h.getBoolean('SIMPLE')).toBe(true);
    expect(h.getInteger('bitpix')).toBe(16);
    expect(h.getNumber('CRPIX1')).toBe(100);
    expect(h.getString('EXTNAME')).toBe('IMAGE');
    expect(h.getBigInt('BZERO')).toBe(9223372036854775808n);
    expect(h.getNumber('BZERO')).toBe(9223372036854775808);
    expect(() => h.getInteger('BZERO')).toThrow(/exceeds 2\^53/);
    expect(h.get('UNDEF')).toBeNull();
    expect(h.getNumber('UNDEF')).toBeUndefined();
    expect(h.has('UNDEF')).toBe(true);
    expect(h.has('MISSING')).toBe(false);
    expect(h.getString('MISSING')).toBeUndefined();
    expect(h.getString('ESO DET CHIP')).toBe('CCD');
    expect(h.getString('hierarch eso det chip')).toBe('CCD');
    expect(h.comments()).toEqual(['first', 'second']);
    expect(h.history()).toEqual(['step 1']);
    expect(() => h.getString('BITPIX')).toThrow('keyword BITPIX is a integer, not a string');
    expect(() => h.getNumber('EXTNAME')).toThrow(FitsError);
    expect(() => h.getBoolean('BITPIX')).toThrow(FitsError);
  });

  test('set replaces in place (keeping comment and float type) or appends', () => {
    const h = make();
    h.set('CRPIX1', 200);
    expect(h.getCard('CRPIX1')).toEqual({ keyword: 'CRPIX1', type: 'float', value: 200, comment: 'reference pixel' });
    expect(h.indexOf('CRPIX1')).toBe(3);
    h.set('EXTNAME', 'SCI', 'new comment');
    expect(h.getCard('EXTNAME')).toEqual({ keyword: 'EXTNAME', type: 'string', value: 'SCI', comment: 'new comment' });
    h.set('exptime', 30);
    expect(h.cards[h.length - 1]).toEqual({ keyword: 'EXPTIME', type: 'integer', value: 30 });
    h.set('GAIN', 2, undefined, { numberType: 'float' });
    expect(h.getCard('GAIN')).toMatchObject({ type: 'float', value: 2 });
    h.set('ESO DET NEW', 1.5);
    expect(h.getCard('HIERARCH ESO DET NEW')).toEqual({ keyword: 'ESO DET NEW', type: 'float', value: 1.5, hierarch: true });
    h.set('COMMENT', 'third');
    expect(h.comments()).toEqual(['first', 'second', 'third']);
    h.set('BIGINT', 2n ** 70n);
    expect(h.getBigInt('BIGINT')).toBe(2n ** 70n);
    h.set('NOTHING', null, 'undefined');
    expect(h.getCard('NOTHING')).toEqual({ keyword: 'NOTHING', type: 'undefined', value: null, comment: 'undefined' });
    expect(h.delete('COMMENT')).toBe(3);
    expect(h.comments()).toEqual([]);
    expect(() => h.set('BAD', Number.NaN)).toThrow(FitsError);
    expect(() => h.set('BAD', 1.5, undefined, { numberType: 'integer' })).toThrow(FitsError);
  });

  test('keyword normalisation', () => {
    expect(normalizeKeyword('naxis1')).toEqual({ keyword: 'NAXIS1', hierarch: false });
    expect(normalizeKeyword('DATE-OBS')).toEqual({ keyword: 'DATE-OBS', hierarch: false });
    expect(normalizeKeyword('HIERARCH  ESO   DET')).toEqual({ keyword: 'ESO DET', hierarch: true });
    expect(normalizeKeyword('LONGKEYWORD')).toEqual({ keyword: 'LONGKEYWORD', hierarch: true });
    expect(() => normalizeKeyword('A=B C')).toThrow(FitsError);
  });
});

describe('card formatting', () => {
  test('fixed format: values to column 30, strings from column 11 padded to 8', () => {
    expect(formatCard({ keyword: 'SIMPLE', type: 'logical', value: true, comment: 'conforms to FITS standard' })).toEqual([
      rec('SIMPLE  =                    T / conforms to FITS standard'),
    ]);
    expect(formatCard({ keyword: 'NAXIS1', type: 'integer', value: 4096 })).toEqual([rec('NAXIS1  =                 4096')]);
    expect(formatCard({ keyword: 'EXTNAME', type: 'string', value: 'SCI', comment: 'extension name' })).toEqual([
      rec("EXTNAME = 'SCI     '           / extension name"),
    ]);
    expect(formatCard({ keyword: 'OBSERVER', type: 'string', value: "O'Brien" })).toEqual([rec("OBSERVER= 'O''Brien'")]);
    expect(formatCard({ keyword: 'OBSERVER', type: 'string', value: "O'Brie" })).toEqual([rec("OBSERVER= 'O''Brie '")]);
    expect(formatCard({ keyword: 'EXPTIME', type: 'float', value: 1000 })).toEqual([rec('EXPTIME =               1000.0')]);
    expect(formatCard({ keyword: 'TINY', type: 'float', value: 1e-300 })).toEqual([rec('TINY    =             1.0E-300')]);
    expect(formatCard({ keyword: 'CPLX', type: 'complex', value: { re: 1, im: -2.5 } })).toEqual([rec('CPLX    =          (1.0, -2.5)')]);
    expect(formatCard({ keyword: 'UNDEF', type: 'undefined', value: null, comment: 'c' })).toEqual([
      rec('UNDEF   =                      / c'),
    ]);
    expect(formatCard({ keyword: 'HISTORY', type: 'commentary', value: 'did a thing' })).toEqual([rec('HISTORY did a thing')]);
    expect(formatCard({ keyword: 'ESO DET CHIP', type: 'integer', value: 3, hierarch: true, comment: 'chip' })).toEqual([
      rec('HIERARCH ESO DET CHIP = 3 / chip'),
    ]);
  });

  test('formatFloat: shortest exact text, always with a "." and E exponents outside 1e-4..1e16', () => {
    expect(formatFloat(1)).toBe('1.0');
    expect(formatFloat(-0)).toBe('-0.0');
    expect(formatFloat(0)).toBe('0.0');
    expect(formatFloat(0.1)).toBe('0.1');
    expect(formatFloat(123.456)).toBe('123.456');
    expect(formatFloat(0.0001)).toBe('0.0001');
    expect(formatFloat(0.00001)).toBe('1.0E-05');
    expect(formatFloat(1e15)).toBe('1000000000000000.0');
    expect(formatFloat(9999999999999998)).toBe('9999999999999998.0');
    expect(formatFloat(9.999999999999999e-5)).toBe('9.999999999999999E-05');
    expect(formatFloat(-0.00012)).toBe('-0.00012');
    expect(formatFloat(-123456.789)).toBe('-123456.789');
    expect(formatFloat(2 ** 53 + 2)).toBe('9007199254740994.0');
    expect(formatFloat(1e16)).toBe('1.0E+16');
    expect(formatFloat(1e300)).toBe('1.0E+300');
    expect(formatFloat(-1.5e-7)).toBe('-1.5E-07');
    expect(formatFloat(Number.MIN_VALUE)).toBe('5.0E-324');
    expect(formatFloat(Number.MAX_VALUE)).toBe('1.7976931348623157E+308');
    expect(() => formatFloat(Number.POSITIVE_INFINITY)).toThrow(FitsError);
    expect(() => formatFloat(Number.NaN)).toThrow(FitsError);
  });

  test('floats round-trip exactly through format + parse (random bit patterns and scales)', () => {
    const rand = prng(12345);
    const bits = new Uint32Array(2);
    const f64 = new Float64Array(bits.buffer);
    const values = [
      1e-300,
      1e300,
      -0,
      0,
      1,
      -1,
      2 ** 53,
      2 ** 53 + 2,
      1e21,
      1e-7,
      0.1 + 0.2,
      Math.PI,
      Number.MIN_VALUE,
      Number.MAX_VALUE,
      -Number.EPSILON,
    ];
    for (let i = 0; i < 3000; i++) {
      bits[0] = Math.floor(rand() * 2 ** 32);
      bits[1] = Math.floor(rand() * 2 ** 32);
      if (Number.isFinite(f64[0]!)) values.push(f64[0]!);
      values.push((rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20));
      values.push(Math.round((rand() - 0.5) * 1e6)); // integers written as floats
    }
    const failures: string[] = [];
    for (const value of values) {
      const images = formatCard({ keyword: 'X', type: 'float', value });
      const back = parseCards(images)[0]!;
      if (images.length !== 1 || images[0]!.length !== 80 || back.type !== 'float' || !Object.is(back.value, value)) {
        failures.push(`${value} → ${images.join('|')} → ${back.type} ${back.type === 'complex' ? 'complex' : String(back.value)}`);
      }
    }
    expect(values.length).toBeGreaterThan(8000);
    expect(failures).toEqual([]);
  });

  test('every formatted card is exactly 80 characters; long comments on non-strings are cut', () => {
    const longComment = 'word '.repeat(30).trim();
    const cards: Card[] = [
      { keyword: 'A', type: 'integer', value: 1, comment: longComment },
      { keyword: 'B', type: 'float', value: -1.2345678901234568e-300, comment: longComment },
      { keyword: 'C', type: 'logical', value: false, comment: longComment },
      { keyword: 'COMMENT', type: 'commentary', value: 'x'.repeat(200) },
      { keyword: 'D', type: 'string', value: 'y'.repeat(200), comment: longComment },
    ];
    for (const card of cards) {
      for (const image of formatCard(card)) expect(image).toHaveLength(80);
    }
    expect(formatCard(cards[0]!)[0]).toBe(`A       =                    1 / ${longComment}`.slice(0, 80));
    expect(formatCard(cards[3]!)).toHaveLength(3);
    expect(() => formatCard({ keyword: 'E', type: 'string', value: 'caf\u00e9' })).toThrow(/ASCII/);
    expect(() => formatCard({ keyword: 'TOOLONGKEY', type: 'commentary', value: 'x' })).toThrow(FitsError);
    expect(formatCard({ keyword: 'HUGE', type: 'integer', value: 1e21 })).toEqual([rec('HUGE    = 1000000000000000000000')]);
  });

  test('long strings are written with CONTINUE and read back exactly (with comments, quotes, &)', () => {
    const rand = prng(777);
    const alphabet = "abcdefghij KLMNOP'&/=0123456789";
    for (let i = 0; i < 300; i++) {
      const len = Math.floor(rand() * 400);
      let value = '';
      for (let k = 0; k < len; k++) value += alphabet[Math.floor(rand() * alphabet.length)];
      value = value.trimEnd(); // trailing spaces are not significant (§4.2.1.1)
      const words = Math.floor(rand() * 40);
      const comment = Array.from({ length: words }, (_, k) => `w${k}`).join(' ');
      const card: Card = comment ? { keyword: 'LONGSTRN', type: 'string', value, comment } : { keyword: 'LONGSTRN', type: 'string', value };
      const images = formatCard(card);
      for (const image of images) expect(image).toHaveLength(80);
      if (images.length > 1) expect(images.slice(1).every((s) => s.startsWith("CONTINUE  '"))).toBe(true);
      expect(parseCards(images)).toEqual([card]);
    }
  });

  test('a specific long string, and HIERARCH long strings', () => {
    const value = 'A'.repeat(100);
    const images = formatCard({ keyword: 'LONG', type: 'string', value, comment: 'c' });
    expect(images).toEqual([rec(`LONG    = '${'A'.repeat(67)}&'`), rec(`CONTINUE  '${'A'.repeat(33)}' / c`)]);
    const h: Card = { keyword: 'ESO OBS NAME', type: 'string', value: 'B'.repeat(150), hierarch: true };
    expect(parseCards(formatCard(h))).toEqual([h]);
  });

  test('Header.format: cards, END, space padding to 2880 and a parse/format fixed point', () => {
    const h = new Header()
      .set('SIMPLE', true)
      .set('BITPIX', -32)
      .set('NAXIS', 0)
      .set('LONGSTR', 'z'.repeat(150), 'long')
      .addHistory('made by a test');
    const text = h.format();
    expect(text.length).toBe(2880);
    // SIMPLE, BITPIX, NAXIS, LONGSTR + 2 CONTINUE, HISTORY, then END
    expect(text.slice(7 * 80, 8 * 80)).toBe(rec('END'));
    expect(text.slice(8 * 80).trim()).toBe('');
    const back = Header.parse(text);
    expect(back.cards).toEqual(h.cards);
    expect(back.format()).toBe(text);
    const many = new Header();
    for (let i = 0; i < 40; i++) many.set(`KEY${i}`, i);
    expect(many.format().length).toBe(5760);
  });
});

describe('scalarLookup', () => {
  test('looks through headers in turn; big integers become numbers; complex and undefined are absent', () => {
    const image = new Header().set('CRPIX1', 10.5).set('BIG', 9007199254740993n).set('CPLX', { re: 1, im: 2 }).set('NOVAL', null);
    const primary = new Header().set('CRPIX1', 99).set('FILTER', 'r_sim_1.4').set('FLAG', true);
    const lookup = scalarLookup(image, primary);
    expect(lookup.get('CRPIX1')).toBe(10.5);
    expect(lookup.get('FILTER')).toBe('r_sim_1.4');
    expect(lookup.get('FLAG')).toBe(true);
    expect(lookup.get('BIG')).toBe(9007199254740992);
    expect(lookup.get('CPLX')).toBeUndefined();
    expect(lookup.get('NOVAL')).toBeUndefined();
    expect(lookup.get('MISSING')).toBeUndefined();
  });
});
