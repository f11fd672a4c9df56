/**
 * VOTable BINARY2 row encoder (VOTable 1.4 §5.4, unchanged since 1.3): each row is a null-flag
 * bitmask of ceil(nfields/8) bytes (most significant bit = first field) followed by every
 * field's value in big-endian order; a null still occupies its full width. The byte stream is
 * base64-encoded (§5.3) in chunks that are multiples of 3 bytes, carrying the 0–2 leftover
 * bytes into the next chunk, so no padding appears before the very end.
 */
import { toBool, toNumber, type Value } from './cells';
import type { Cell, FieldDef } from './types';

type Put = (v: Value | null) => void;

/** `*`, `12*` → variable; `12`, `2x3` → fixed element count. */
function parseArraysize(arraysize: string | undefined): { variable: boolean; count: number } {
  if (arraysize === undefined || arraysize === '') return { variable: false, count: 1 };
  if (arraysize.endsWith('*')) return { variable: true, count: 0 };
  const count = arraysize.split('x').reduce((n, d) => n * (Number.parseInt(d, 10) || 1), 1);
  return { variable: false, count };
}

const TWO32 = 4294967296;

export class Binary2Encoder {
  private buf: Buffer;
  private pos = 0;
  private readonly puts: Put[];
  private readonly maskBytes: number;
  private pending: Promise<void>[] = [];

  /**
   * @param emit receives base64 text; returns a promise when the destination wants a drain.
   * @param capacity bytes buffered before encoding (rounded to a multiple of 3).
   */
  constructor(
    fields: FieldDef[],
    private readonly emit: (b64: string) => Promise<void> | undefined,
    capacity = 49152,
  ) {
    this.buf = Buffer.alloc(Math.max(3, capacity - (capacity % 3)));
    this.maskBytes = Math.ceil(fields.length / 8);
    this.puts = fields.map((f) => this.putter(f));
  }

  row(cells: readonly Cell[]): Promise<void> | void {
    const puts = this.puts;
    const n = puts.length;
    const mb = this.maskBytes;
    this.ensure(mb);
    const buf = this.buf;
    const start = this.pos;
    buf.fill(0, start, start + mb);
    for (let i = 0; i < n; i++) {
      const v = cells[i];
      if (v === null || v === undefined) buf[start + (i >> 3)]! |= 0x80 >> (i & 7);
    }
    this.pos += mb;
    for (let i = 0; i < n; i++) {
      const v = cells[i];
      puts[i]!(v === undefined ? null : v);
    }
    if (this.pending.length === 0) return undefined;
    const waits = this.pending;
    this.pending = [];
    return waits.length === 1 ? waits[0] : Promise.all(waits).then(() => undefined);
  }

  /** Base64 of whatever is left, padded; call once at the end of the table. */
  finish(): string {
    const s = this.buf.toString('base64', 0, this.pos);
    this.pos = 0;
    return s;
  }

  private ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.spill(n);
  }

  /** Encodes the whole 3-byte groups, keeps the remainder, grows for oversize values. */
  private spill(n: number): void {
    const whole = this.pos - (this.pos % 3);
    if (whole > 0) {
      const text = this.buf.toString('base64', 0, whole);
      this.buf.copy(this.buf, 0, whole, this.pos);
      this.pos -= whole;
      const p = this.emit(text);
      if (p) this.pending.push(p);
    }
    if (this.pos + n > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < this.pos + n) size *= 2;
      const bigger = Buffer.alloc(size - (size % 3));
      this.buf.copy(bigger, 0, 0, this.pos);
      this.buf = bigger;
    }
  }

  private putter(f: FieldDef): Put {
    const { variable, count } = parseArraysize(f.arraysize);
    if (f.datatype === 'char') return variable ? this.varChars(false) : this.fixedChars(count, false);
    if (f.datatype === 'unicodeChar') return variable ? this.varChars(true) : this.fixedChars(count, true);
    const size = { boolean: 1, short: 2, int: 4, long: 8, float: 4, double: 8 }[f.datatype];
    const elem = this.element(f);
    if (!variable && count === 1) {
      return (v) => {
        this.ensure(size);
        elem(v);
        this.pos += size;
      };
    }
    // Numeric arrays (e.g. DALI point/polygon) arrive as space-separated text (DALI 1.1 §3.3).
    const items = (v: Value | null): Value[] => (v === null ? [] : typeof v === 'string' ? v.split(/[\s,]+/).filter((t) => t !== '') : [v]);
    if (variable) {
      return (v) => {
        const xs = items(v);
        this.ensure(4 + size * xs.length);
        this.buf.writeUInt32BE(xs.length, this.pos);
        this.pos += 4;
        for (const x of xs) {
          elem(x);
          this.pos += size;
        }
      };
    }
    return (v) => {
      const xs = items(v);
      this.ensure(size * count);
      for (let i = 0; i < count; i++) {
        // Missing elements are null elements (NaN, 0 or '?').
        elem(i < xs.length ? xs[i]! : null);
        this.pos += size;
      }
    };
  }

  /** Writes one element at `this.pos` without advancing; null → the type's null/zero value. */
  private element(f: FieldDef): Put {
    switch (f.datatype) {
      case 'boolean':
        // §5.4: boolean is one byte, 'T', 'F' or '?' (null).
        return (v) => {
          const b = v === null ? undefined : toBool(v);
          this.buf[this.pos] = b === undefined ? 0x3f : b ? 0x54 : 0x46;
        };
      case 'short':
        return (v) => {
          const x = v === null ? 0 : toNumber(v);
          this.buf.writeInt16BE(Number.isFinite(x) ? (x << 16) >> 16 : 0, this.pos);
        };
      case 'int':
        return (v) => {
          const x = v === null ? 0 : toNumber(v);
          this.buf.writeInt32BE(Number.isFinite(x) ? x | 0 : 0, this.pos);
        };
      case 'long':
        return (v) => this.putLong(v);
      case 'float':
        return (v) => {
          this.buf.writeFloatBE(v === null ? NaN : toNumber(v), this.pos);
        };
      default:
        return (v) => {
          this.buf.writeDoubleBE(v === null ? NaN : toNumber(v), this.pos);
        };
    }
  }

  private putLong(v: Value | null): void {
    if (typeof v === 'bigint' || typeof v === 'string') {
      let b = 0n;
      try {
        b = typeof v === 'bigint' ? v : BigInt(v.trim());
      } catch {
        b = 0n; // not an integer literal: written as 0 (cannot express null in-band)
      }
      this.buf.writeBigInt64BE(BigInt.asIntN(64, b), this.pos);
      return;
    }
    const x = v === null ? 0 : Math.trunc(toNumber(v));
    if (!Number.isFinite(x)) {
      this.buf.writeInt32BE(0, this.pos);
      this.buf.writeInt32BE(0, this.pos + 4);
    } else if (Number.isSafeInteger(x)) {
      // Split into 32-bit halves: avoids a BigInt allocation per cell on the hot path.
      const hi = Math.floor(x / TWO32);
      this.buf.writeInt32BE(hi, this.pos);
      this.buf.writeUInt32BE(x - hi * TWO32, this.pos + 4);
    } else {
      this.buf.writeBigInt64BE(BigInt.asIntN(64, BigInt(x)), this.pos);
    }
  }

  private text(v: Value | null): string {
    return v === null ? '' : typeof v === 'string' ? v : typeof v === 'boolean' ? (v ? 'T' : 'F') : String(v);
  }

  /** `*`: 4-byte element count then the elements (§5.4); unicodeChar is UCS-2 big-endian. */
  private varChars(unicode: boolean): Put {
    if (!unicode) {
      return (v) => {
        const s = this.text(v);
        // One pass over the text: room for its longest UTF-8 form (3 bytes per UTF-16 unit),
        // written, then its byte count before it.
        this.ensure(4 + 3 * s.length);
        const n = this.buf.write(s, this.pos + 4, 'utf8');
        this.buf.writeUInt32BE(n, this.pos);
        this.pos += 4 + n;
      };
    }
    return (v) => {
      const s = this.text(v);
      const n = s.length;
      this.ensure(4 + 2 * n);
      this.buf.writeUInt32BE(n, this.pos);
      const at = this.pos + 4;
      this.buf.write(s, at, 2 * n, 'utf16le');
      this.buf.subarray(at, at + 2 * n).swap16();
      this.pos = at + 2 * n;
    };
  }

  /** Fixed `n`: exactly n elements, NUL-padded (truncated when longer). */
  private fixedChars(count: number, unicode: boolean): Put {
    const width = unicode ? 2 * count : count;
    return (v) => {
      const s = this.text(v);
      this.ensure(width);
      const at = this.pos;
      this.buf.fill(0, at, at + width);
      this.buf.write(s, at, width, unicode ? 'utf16le' : 'utf8');
      if (unicode) this.buf.subarray(at, at + width).swap16();
      this.pos = at + width;
    };
  }
}
