/**
 * A small pull scanner for the XML of uploaded VOTables: start tags (with attributes), end
 * tags (also for `<X/>`) and character data, with entities and CDATA decoded and comments,
 * processing instructions and the DOCTYPE skipped. It checks that end tags match start tags,
 * which is all the well-formedness a table reader needs. It does not resolve namespaces
 * (VOTable 1.4 §3: documents may bind any prefix), so `name` is the tag's local part.
 *
 * It exists instead of a DOM parser because TABLEDATA is one element per cell: the scanner
 * builds no tree, and allocates nothing per TR or TD beyond the cell's text.
 */
import { VotableReadError } from './read-errors';

export type XmlToken = 'open' | 'close' | 'text' | 'end';

const LT = 0x3c; // <
const GT = 0x3e; // >
const SLASH = 0x2f;
const BANG = 0x21;
const QUESTION = 0x3f;
const EQUALS = 0x3d;

const NO_ATTRIBUTES: ReadonlyMap<string, string> = new Map();

const PREDEFINED_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** XML 1.0 §2.3 white space. */
function isXmlSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

export function isBlank(text: string): boolean {
  return /^[ \t\r\n]*$/.test(text);
}

export class XmlScanner {
  /** After 'open'/'close': the tag name without its namespace prefix. */
  name = '';
  /** After 'open': the attributes by their (qualified) name. */
  attributes: ReadonlyMap<string, string> = NO_ATTRIBUTES;
  /** After 'text': the decoded character data (adjacent text, CDATA and comments merged). */
  text = '';
  private pos = 0;
  /** Qualified names of the open elements, to match end tags. */
  private readonly open: string[] = [];
  /** `<X/>` was just read: its 'close' comes next, as if it were `<X></X>`. */
  private emptyElement = false;

  constructor(private readonly src: string) {}

  /** Moves to the next start tag, end tag, run of character data or the end of the input. */
  next(): XmlToken {
    if (this.emptyElement) {
      this.emptyElement = false;
      this.name = localName(this.open.pop()!);
      return 'close';
    }
    const src = this.src;
    let text: string | undefined;
    for (;;) {
      const at = this.pos;
      if (at >= src.length) break;
      if (src.charCodeAt(at) !== LT) {
        let end = src.indexOf('<', at);
        if (end < 0) end = src.length;
        text = (text ?? '') + this.decode(src.slice(at, end), at);
        this.pos = end;
        continue;
      }
      const c = src.charCodeAt(at + 1);
      if (c === BANG) {
        if (src.startsWith('<![CDATA[', at)) {
          const end = this.find(']]>', at + 9, 'CDATA section');
          text = (text ?? '') + normaliseLineEnds(src.slice(at + 9, end));
          this.pos = end + 3;
        } else if (src.startsWith('<!--', at)) {
          this.pos = this.find('-->', at + 4, 'comment') + 3;
        } else if (src.startsWith('<!DOCTYPE', at)) {
          this.skipDoctype(at);
        } else {
          throw this.syntaxError('unexpected "<!"', at);
        }
        continue;
      }
      if (c === QUESTION) {
        this.pos = this.find('?>', at + 2, 'processing instruction') + 2;
        continue;
      }
      // Character data before this tag is reported first; the tag is read on the next call.
      if (text !== undefined) break;
      return c === SLASH ? this.endTag(at) : this.startTag(at);
    }
    if (text !== undefined) {
      this.text = text;
      return 'text';
    }
    return 'end';
  }

  /**
   * Moves to the next child element of the current one (skipping character data); false once
   * the current element's end tag is read.
   */
  nextChild(): boolean {
    for (;;) {
      const token = this.next();
      if (token === 'open') return true;
      if (token === 'close') return false;
      if (token === 'end') throw this.truncated();
    }
  }

  /** Skips the rest of the element whose start tag was just read (nested elements included). */
  skipElement(): void {
    const depth = this.open.length;
    for (;;) {
      const token = this.next();
      if (token === 'end') throw this.truncated();
      if (token === 'close' && this.open.length < depth) return;
    }
  }

  /** The text content of the element just opened (that of nested elements included). */
  readText(): string {
    const depth = this.open.length;
    let text = '';
    for (;;) {
      const token = this.next();
      if (token === 'text') text += this.text;
      else if (token === 'end') throw this.truncated();
      else if (token === 'close' && this.open.length < depth) return text;
    }
  }

  /** The error for input that stops inside an element. */
  truncated(): VotableReadError {
    const inside = this.open.length > 0 ? ` inside <${this.open[this.open.length - 1]}>` : '';
    return new VotableReadError(`the document ends${inside}: the upload is truncated or not well-formed XML`);
  }

  /** Well-formed XML that is not what VOTable allows there. */
  invalid(message: string): VotableReadError {
    return new VotableReadError(`invalid VOTable at line ${this.lineAt(this.pos)}: ${message}`);
  }

  private syntaxError(message: string, at: number): VotableReadError {
    return new VotableReadError(`malformed XML at line ${this.lineAt(at)}: ${message}`);
  }

  private lineAt(at: number): number {
    let line = 1;
    for (let i = this.src.indexOf('\n'); i >= 0 && i < at; i = this.src.indexOf('\n', i + 1)) line++;
    return line;
  }

  private startTag(at: number): XmlToken {
    const src = this.src;
    let p = at + 1;
    while (p < src.length && !isXmlSpace(src.charCodeAt(p)) && src.charCodeAt(p) !== GT && src.charCodeAt(p) !== SLASH) p++;
    const qname = this.tagName(at + 1, p);
    if (qname === '' || qname.includes('<')) throw this.syntaxError('"<" that does not start a tag (write it as &lt;)', at);
    this.name = localName(qname);
    let attributes: Map<string, string> | undefined;
    for (;;) {
      while (p < src.length && isXmlSpace(src.charCodeAt(p))) p++;
      const c = src.charCodeAt(p);
      if (c === GT || (c === SLASH && src.charCodeAt(p + 1) === GT)) {
        this.emptyElement = c === SLASH;
        this.pos = p + (c === SLASH ? 2 : 1);
        break;
      }
      if (p >= src.length) throw this.truncated();
      const nameStart = p;
      while (p < src.length && !isXmlSpace(src.charCodeAt(p)) && src.charCodeAt(p) !== EQUALS && src.charCodeAt(p) !== GT) p++;
      const attribute = src.slice(nameStart, p);
      while (p < src.length && isXmlSpace(src.charCodeAt(p))) p++;
      if (src.charCodeAt(p) !== EQUALS) throw this.syntaxError(`attribute ${attribute} of <${qname}> has no value`, p);
      p++;
      while (p < src.length && isXmlSpace(src.charCodeAt(p))) p++;
      const quote = src[p];
      if (quote !== '"' && quote !== "'") throw this.syntaxError(`the value of attribute ${attribute} of <${qname}> is not quoted`, p);
      const end = src.indexOf(quote, p + 1);
      if (end < 0) throw this.truncated();
      // XML 1.0 §3.3.3: literal white space in attribute values becomes spaces (but a
      // character reference such as &#9; keeps its character).
      const value = this.decode(normaliseLineEnds(src.slice(p + 1, end)).replace(/[\t\n]/g, ' '), p + 1);
      (attributes ??= new Map()).set(attribute, value);
      p = end + 1;
    }
    this.attributes = attributes ?? NO_ATTRIBUTES;
    this.open.push(qname);
    return 'open';
  }

  private endTag(at: number): XmlToken {
    const src = this.src;
    const expected = this.open.pop();
    if (expected !== undefined && src.startsWith(expected, at + 2)) {
      let p = at + 2 + expected.length;
      while (p < src.length && isXmlSpace(src.charCodeAt(p))) p++;
      if (src.charCodeAt(p) === GT) {
        this.name = localName(expected);
        this.pos = p + 1;
        return 'close';
      }
    }
    const end = src.indexOf('>', at);
    if (end < 0) throw this.truncated();
    const qname = src.slice(at + 2, end).trimEnd();
    throw this.syntaxError(expected === undefined ? `</${qname}> closes nothing` : `</${qname}> where </${expected}> was expected`, at);
  }

  /** The tag name at [start, end); TD and TR, one per cell and row, without a new string. */
  private tagName(start: number, end: number): string {
    const src = this.src;
    if (end - start === 2 && src.charCodeAt(start) === 0x54) {
      const second = src.charCodeAt(start + 1);
      if (second === 0x44) return 'TD';
      if (second === 0x52) return 'TR';
    }
    return src.slice(start, end);
  }

  private find(terminator: string, from: number, what: string): number {
    const end = this.src.indexOf(terminator, from);
    if (end < 0) throw new VotableReadError(`the document ends inside a ${what}: the upload is truncated or not well-formed XML`);
    return end;
  }

  /** `<!DOCTYPE …>`, including an internal subset in brackets. */
  private skipDoctype(at: number): void {
    const src = this.src;
    let depth = 0;
    let quote = '';
    for (let p = at + 9; p < src.length; p++) {
      const ch = src[p];
      if (quote !== '') {
        if (ch === quote) quote = '';
      } else if (ch === '"' || ch === "'") quote = ch;
      else if (ch === '[') depth++;
      else if (ch === ']') depth--;
      else if (ch === '>' && depth <= 0) {
        this.pos = p + 1;
        return;
      }
    }
    throw new VotableReadError('the document ends inside its DOCTYPE: the upload is truncated or not well-formed XML');
  }

  /** Character data with line ends normalised (XML 1.0 §2.11) and references replaced (§4.1, §4.6). */
  private decode(raw: string, at: number): string {
    const text = normaliseLineEnds(raw);
    if (!text.includes('&')) return text;
    return text.replace(/&([^;&<\s]*)(;?)/g, (_match, ref: string, semicolon: string, offset: number) => {
      if (semicolon === '') throw this.syntaxError('"&" that does not start an entity reference (write it as &amp;)', at + offset);
      if (ref.startsWith('#')) {
        const code = ref.startsWith('#x') ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
        const digits = ref.startsWith('#x') ? /^#x[0-9a-fA-F]+$/ : /^#[0-9]+$/;
        if (!digits.test(ref) || !isXmlChar(code)) throw this.syntaxError(`&${ref}; is not a valid character reference`, at + offset);
        return String.fromCodePoint(code);
      }
      const entity = PREDEFINED_ENTITIES[ref];
      if (entity === undefined)
        throw this.syntaxError(`unknown entity &${ref}; (XML defines only &lt; &gt; &amp; &quot; &apos;)`, at + offset);
      return entity;
    });
  }
}

function localName(qname: string): string {
  const colon = qname.indexOf(':');
  return colon < 0 ? qname : qname.slice(colon + 1);
}

function normaliseLineEnds(text: string): string {
  return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
}

/** XML 1.0 §2.2 Char. */
function isXmlChar(code: number): boolean {
  if (code === 0x9 || code === 0xa || code === 0xd) return true;
  return (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}
