/*
 * Result encoders as SQLite SQL functions: a query's rows come out already serialised, in
 * batches of about 48 KiB, so a large result crosses from SQLite to JavaScript as one value per
 * batch instead of one per cell, and no JavaScript number or string is made for a cell.
 * Loaded into the worker threads' read-only connections (worker/obscore.ts);
 * shared/votable/native.ts decides when they apply and writes the SQL:
 *
 *   WITH vo_rows(c0, …, cn) AS (<query>)
 *   SELECT vo_csv_batch(<token>, <maxrec>, '<spec>', c0, …, cn) FROM vo_rows LIMIT <maxrec + 1>
 *
 * Each call appends its row to the batch of `token` (one per running result, kept by the
 * thread) and returns the batch (UTF-8 bytes, as a BLOB: JavaScript writes them to the output
 * as they are, never making a string of them) once it is full, else NULL; row maxrec + 1 is only counted
 * (DALI's overflow). Then vo_batch_rows(token) tells the rows seen and vo_batch_end(token)
 * returns the rest and forgets the batch. SQLite calls a result column's function once per
 * output row, in order, which is what makes the batches the rows in order.
 *
 *   vo_tabledata_batch → `<TR>…</TR>` lines (VOTable 1.4 §5.1)
 *   vo_binary2_batch   → BINARY2 rows (§5.4: null flags, then values) as base64 lines (§5.3),
 *                        whole 3-byte groups until the end, so padding appears only there
 *   vo_csv_batch       → CSV records with CRLF (RFC 4180); vo_tsv_batch → TSV lines
 *
 * `spec` has one letter per column. BINARY2: B boolean, S short, I int, L long, F float,
 * D double, C char[*], U unicodeChar[*]. Text formats: b boolean, i integer, f floating point,
 * t anything written as its text (char, arrays).
 *
 * Every row is byte for byte what the JavaScript writers in shared/votable produce for
 * the same values, including their conversions of mismatched storage classes (text in a
 * numeric column, a real in an integer column) and JavaScript's number-to-text rules
 * (ECMA-262 Number::toString); test/votable/native.test.ts compares the two. Two deliberate
 * differences: integers beyond 2^53 are written exactly (JavaScript rounds them to a double),
 * and only ASCII whitespace is trimmed from words and numbers held as text.
 */
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <unordered_map>

namespace {

/* A growing byte buffer: what std::string does here, with appends the compiler inlines (a
 * row is some hundred small appends; std::string's cost 10% of the time, measured). */
class Out {
 public:
  Out() = default;
  Out(const Out &) = delete;
  Out &operator=(const Out &) = delete;
  ~Out() { std::free(data_); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear() { size_ = 0; }
  char *data() { return data_; }
  const char *data() const { return data_; }
  const char *begin() const { return data_; }
  const char *end() const { return data_ + size_; }
  char &operator[](size_t i) { return data_[i]; }
  char operator[](size_t i) const { return data_[i]; }

  void append(const char *p, size_t n) {
    room(n);
    std::memcpy(data_ + size_, p, n);
    size_ += n;
  }
  void append(size_t n, char c) {
    room(n);
    std::memset(data_ + size_, c, n);
    size_ += n;
  }
  Out &operator+=(char c) {
    room(1);
    data_[size_++] = c;
    return *this;
  }
  Out &operator+=(const char *s) {
    append(s, std::strlen(s));
    return *this;
  }
  Out &operator+=(const Out &o) {
    append(o.data_, o.size_);
    return *this;
  }
  void resize(size_t n) {
    if (n > size_) room(n - size_);
    size_ = n;
  }
  void eraseFront(size_t n) {
    std::memmove(data_, data_ + n, size_ - n);
    size_ -= n;
  }

 private:
  void room(size_t extra) {
    if (size_ + extra > capacity_) grow(size_ + extra);
  }
  void grow(size_t need) {
    size_t capacity = std::max(need, capacity_ * 2 + 256);
    char *data = static_cast<char *>(std::realloc(data_, capacity));
    if (!data) throw std::bad_alloc();
    data_ = data;
    capacity_ = capacity;
  }

  char *data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

/* ---- numbers as JavaScript writes them ------------------------------------------------ */

/* ECMA-262 Number::toString(x) for radix 10: the shortest digits that round-trip (as
 * std::to_chars finds them), laid out in plain or exponent form by the spec's rules. */
void appendJsNumber(Out &o, double x) {
  if (std::isnan(x)) {
    o += "NaN";
    return;
  }
  if (x == 0) {  // +0 and -0 alike
    o += '0';
    return;
  }
  if (x < 0) {
    o += '-';
    x = -x;
  }
  if (std::isinf(x)) {
    o += "Infinity";
    return;
  }
  char buf[40];
  auto r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
  char digits[24];
  int k = 0;
  const char *p = buf;
  for (; p < r.ptr && *p != 'e'; ++p)
    if (*p != '.') digits[k++] = *p;
  // p points at "e+05" / "e-07".
  int e = 0;
  for (const char *q = p + 2; q < r.ptr; ++q) e = e * 10 + (*q - '0');
  if (p[1] == '-') e = -e;
  int n = e + 1;
  if (k <= n && n <= 21) {
    o.append(digits, k);
    o.append(n - k, '0');
  } else if (0 < n && n <= 21) {
    o.append(digits, n);
    o += '.';
    o.append(digits + n, k - n);
  } else if (-6 < n && n <= 0) {
    o += "0.";
    o.append(-n, '0');
    o.append(digits, k);
  } else {
    o += digits[0];
    if (k > 1) {
      o += '.';
      o.append(digits + 1, k - 1);
    }
    o += e < 0 ? "e-" : "e+";
    char exp[8];
    auto er = std::to_chars(exp, exp + sizeof exp, e < 0 ? -e : e);
    o.append(exp, er.ptr - exp);
  }
}

/* VOTable 1.4 §6 spelling of floating point (cells.ts floatText). */
void appendFloatText(Out &o, double x) {
  if (std::isnan(x))
    o += "NaN";
  else if (std::isinf(x))
    o += x > 0 ? "+Inf" : "-Inf";
  else
    appendJsNumber(o, x);
}

void appendInteger(Out &o, sqlite3_int64 i) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, i);
  o.append(buf, r.ptr - buf);
}

/* ---- values held as text ---------------------------------------------------------------- */

struct Text {
  const char *s;
  int n;
};

/* The bytes of a TEXT or BLOB value. As a blob: sqlite3_value_text would first copy a text
 * read from a page to add its NUL terminator. The stores are UTF-8 (SQLite's default), so a
 * text's bytes are its UTF-8. */
Text textOf(sqlite3_value *v) {
  const char *s = static_cast<const char *>(sqlite3_value_blob(v));
  return {s ? s : "", sqlite3_value_bytes(v)};
}

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

Text trimmed(Text t) {
  while (t.n > 0 && isSpace(t.s[0])) ++t.s, --t.n;
  while (t.n > 0 && isSpace(t.s[t.n - 1])) --t.n;
  return t;
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

int digitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}

/* 0x…, 0o…, 0b… (no sign): the radix, or 0. */
int radixPrefix(Text t) {
  if (t.n < 3 || t.s[0] != '0') return 0;
  switch (t.s[1]) {
    case 'x': case 'X': return 16;
    case 'o': case 'O': return 8;
    case 'b': case 'B': return 2;
    default: return 0;
  }
}

/* JavaScript Number(text) after trimming, with '' → NaN (cells.ts toNumber). */
double textToNumber(Text raw) {
  Text t = trimmed(raw);
  if (t.n == 0) return NAN;
  if (int radix = radixPrefix(t)) {
    double x = 0;
    for (int i = 2; i < t.n; ++i) {
      int d = digitValue(t.s[i]);
      if (d >= radix) return NAN;
      x = x * radix + d;
    }
    return x;
  }
  int i = 0;
  bool negative = false;
  if (t.s[0] == '+' || t.s[0] == '-') negative = t.s[i++] == '-';
  if (t.n - i == 8 && std::memcmp(t.s + i, "Infinity", 8) == 0) return negative ? -INFINITY : INFINITY;
  // StrDecimalLiteral: digits [. digits] | . digits, then an optional exponent.
  int start = i, intDigits = 0, fracDigits = 0;
  while (i < t.n && isDigit(t.s[i])) ++i, ++intDigits;
  if (i < t.n && t.s[i] == '.') {
    ++i;
    while (i < t.n && isDigit(t.s[i])) ++i, ++fracDigits;
  }
  if (intDigits + fracDigits == 0) return NAN;
  if (i < t.n && (t.s[i] == 'e' || t.s[i] == 'E')) {
    ++i;
    if (i < t.n && (t.s[i] == '+' || t.s[i] == '-')) ++i;
    int expDigits = 0;
    while (i < t.n && isDigit(t.s[i])) ++i, ++expDigits;
    if (expDigits == 0) return NAN;
  }
  if (i != t.n) return NAN;
  std::string copy(t.s + start, t.n - start);
  double x = std::strtod(copy.c_str(), nullptr);
  return negative ? -x : x;
}

double toNumber(sqlite3_value *v, int type) {
  if (type == SQLITE_INTEGER) return static_cast<double>(sqlite3_value_int64(v));
  if (type == SQLITE_FLOAT) return sqlite3_value_double(v);
  return textToNumber(textOf(v));
}

bool equalsWord(Text t, const char *word) {
  int n = static_cast<int>(std::strlen(word));
  if (t.n != n) return false;
  for (int i = 0; i < n; ++i) {
    char c = t.s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != word[i]) return false;
  }
  return true;
}

/* cells.ts toBool: 1 true, 0 false, -1 not recognisable. */
int toBool(sqlite3_value *v, int type) {
  if (type == SQLITE_INTEGER) return sqlite3_value_int64(v) != 0;
  if (type == SQLITE_FLOAT) {
    double x = sqlite3_value_double(v);
    return std::isnan(x) ? -1 : x != 0;
  }
  Text t = trimmed(textOf(v));
  for (const char *w : {"t", "true", "1", "y", "yes"})
    if (equalsWord(t, w)) return 1;
  for (const char *w : {"f", "false", "0", "n", "no"})
    if (equalsWord(t, w)) return 0;
  return -1;
}

/* ECMA-262 ToInt32. */
int32_t toInt32(double x) {
  if (!std::isfinite(x)) return 0;
  double m = std::fmod(std::trunc(x), 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return static_cast<int32_t>(static_cast<uint32_t>(m));
}

/* BigInt.asIntN(64, x) of an integral double. */
uint64_t wrap64(double x) {
  if (std::fabs(x) < 9223372036854775808.0) return static_cast<uint64_t>(static_cast<int64_t>(x));
  double m = std::fmod(x, 18446744073709551616.0);
  if (m < 0) m += 18446744073709551616.0;
  return m >= 18446744073709551616.0 ? 0 : static_cast<uint64_t>(m);
}

/* BigInt(text) modulo 2^64, 0 where BigInt() would throw (binary2.ts putLong). */
uint64_t textToLong(Text raw) {
  Text t = trimmed(raw);
  int radix = radixPrefix(t);
  int i = radix ? 2 : 0;
  bool negative = false;
  if (!radix) {
    radix = 10;
    if (t.n > 0 && (t.s[0] == '+' || t.s[0] == '-')) {
      negative = t.s[0] == '-';
      i = 1;
      if (t.n == 1) return 0;
    }
  }
  uint64_t u = 0;
  for (; i < t.n; ++i) {
    int d = digitValue(t.s[i]);
    if (d >= radix) return 0;
    u = u * static_cast<uint64_t>(radix) + static_cast<uint64_t>(d);
  }
  return negative ? ~u + 1 : u;
}

/* ---- text formats ----------------------------------------------------------------------- */

enum class TextFormat { Csv, Tsv, Tabledata };

/* The cell's text before escaping (cells.ts textFormatter); nothing when the value is not
 * what its column can hold (a word that is no boolean, a non-finite integer). */
void cellText(Out &t, char kind, sqlite3_value *v, int type, TextFormat format) {
  switch (kind) {
    case 'b': {
      int b = toBool(v, type);
      if (b >= 0) t += format == TextFormat::Tabledata ? (b ? "T" : "F") : (b ? "true" : "false");
      return;
    }
    case 'i':
      if (type == SQLITE_INTEGER) {
        appendInteger(t, sqlite3_value_int64(v));
      } else if (type == SQLITE_FLOAT) {
        double x = sqlite3_value_double(v);
        if (std::isfinite(x)) appendJsNumber(t, std::trunc(x));
      } else {
        Text s = textOf(v);
        t.append(s.s, s.n);
      }
      return;
    default:  // 'f', 't'
      if (type == SQLITE_INTEGER) {
        appendFloatText(t, static_cast<double>(sqlite3_value_int64(v)));
      } else if (type == SQLITE_FLOAT) {
        appendFloatText(t, sqlite3_value_double(v));
      } else {
        Text s = textOf(v);
        t.append(s.s, s.n);
      }
  }
}

template <typename Predicate>
bool any(const Out &t, Predicate special) {
  for (char c : t)
    if (special(c)) return true;
  return false;
}

/* RFC 4180 §2.6–2.7 (text.ts csvQuote). */
void appendCsv(Out &o, const Out &t) {
  if (!any(t, [](char c) { return c == ',' || c == '"' || c == '\r' || c == '\n'; })) {
    o += t;
    return;
  }
  o += '"';
  for (char c : t) {
    if (c == '"') o += '"';
    o += c;
  }
  o += '"';
}

/* text.ts tsvEscape. */
void appendTsv(Out &o, const Out &t) {
  if (!any(t, [](char c) { return c == '\\' || c == '\t' || c == '\n' || c == '\r'; })) {
    o += t;
    return;
  }
  for (char c : t) {
    switch (c) {
      case '\\': o += "\\\\"; break;
      case '\t': o += "\\t"; break;
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      default: o += c;
    }
  }
}

/* U+FFFE and U+FFFF in UTF-8: not XML characters. */
bool isNonCharacter(const Out &t, size_t i) {
  return static_cast<unsigned char>(t[i]) == 0xEF && i + 2 < t.size() && static_cast<unsigned char>(t[i + 1]) == 0xBF &&
         (static_cast<unsigned char>(t[i + 2]) == 0xBE || static_cast<unsigned char>(t[i + 2]) == 0xBF);
}

bool isForbiddenControl(unsigned char c) { return c < 0x20 && c != '\t' && c != '\n' && c != '\r'; }

bool needsXmlEscape(const Out &t) {
  return any(t, [](char c) {
    unsigned char u = static_cast<unsigned char>(c);
    return u < 0x20 ? isForbiddenControl(u) : c == '&' || c == '<' || c == '>' || c == '"' || c == '\'' || u == 0xEF;
  });
}

/* shared/xml escapeXml: entities for the five specials, characters XML 1.0 forbids dropped. */
void appendXml(Out &o, const Out &t) {
  if (!needsXmlEscape(t)) {
    o += t;
    return;
  }
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&apos;"; break;
      default:
        if (isForbiddenControl(static_cast<unsigned char>(c))) break;
        if (isNonCharacter(t, i)) {
          i += 2;
          break;
        }
        o += c;
    }
  }
}

/* Appends one row to `o`; `t` is room for one cell's text. Returns an error or nullptr. */
template <TextFormat format>
const char *textRow(const char *spec, int columns, sqlite3_value **values, Out &o, Out &t) {
  if (format == TextFormat::Tabledata) o += "<TR>";
  for (int i = 0; i < columns; ++i) {
    sqlite3_value *v = values[i];
    int type = sqlite3_value_type(v);
    if (format != TextFormat::Tabledata && i > 0) o += format == TextFormat::Csv ? ',' : '\t';
    if (type == SQLITE_NULL) {
      if (format == TextFormat::Tabledata) o += "<TD/>";  // VOTable 1.4 §6: empty TD is null
      continue;
    }
    char kind = spec[i];
    bool asText = type == SQLITE_TEXT || type == SQLITE_BLOB;
    if (kind != 't' && !asText) {
      // A number or boolean: text that needs no escape, written in place.
      size_t at = o.size();
      if (format == TextFormat::Tabledata) o += "<TD>";
      size_t start = o.size();
      cellText(o, kind, v, type, format);
      if (format == TextFormat::Tabledata) {
        if (o.size() == start) {
          o.resize(at);
          o += "<TD/>";
        } else {
          o += "</TD>";
        }
      }
      continue;
    }
    t.clear();
    cellText(t, kind, v, type, format);
    switch (format) {
      case TextFormat::Csv:
        // An empty string is `""`, so it stays distinct from null (an empty field).
        if (t.empty() && asText)
          o += "\"\"";
        else
          appendCsv(o, t);
        break;
      case TextFormat::Tsv:
        appendTsv(o, t);
        break;
      case TextFormat::Tabledata:
        if (t.empty()) {
          o += "<TD/>";
        } else {
          o += "<TD>";
          appendXml(o, t);
          o += "</TD>";
        }
        break;
    }
  }
  o += format == TextFormat::Csv ? "\r\n" : format == TextFormat::Tsv ? "\n" : "</TR>\n";
  return nullptr;
}

/* ---- BINARY2 ------------------------------------------------------------------------------ */

void putBE(Out &o, uint64_t x, int bytes) {
  char b[8];
  for (int i = bytes - 1; i >= 0; --i, x >>= 8) b[i] = static_cast<char>(x & 0xFF);
  o.append(b, bytes);
}

void putDouble(Out &o, double x) {
  uint64_t bits;
  std::memcpy(&bits, &x, 8);
  putBE(o, bits, 8);
}

void putFloat(Out &o, float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  putBE(o, bits, 4);
}

/* The text a char cell holds (binary2.ts text()): numbers as JavaScript's String(x). */
void charText(Out &t, sqlite3_value *v, int type) {
  if (type == SQLITE_INTEGER)
    appendJsNumber(t, static_cast<double>(sqlite3_value_int64(v)));
  else if (type == SQLITE_FLOAT)
    appendJsNumber(t, sqlite3_value_double(v));
  else if (type != SQLITE_NULL) {
    Text s = textOf(v);
    t.append(s.s, s.n);
  }
}

/* UTF-8 → UCS-2 big-endian code units (surrogate pairs outside the BMP); returns the count. */
uint32_t appendUtf16BE(Out &o, const Out &t) {
  uint32_t units = 0;
  auto unit = [&](uint32_t u) {
    o += static_cast<char>(u >> 8);
    o += static_cast<char>(u & 0xFF);
    ++units;
  };
  for (size_t i = 0; i < t.size();) {
    unsigned char c = static_cast<unsigned char>(t[i]);
    uint32_t cp;
    int extra;
    if (c < 0x80) cp = c, extra = 0;
    else if (c >= 0xF0) cp = c & 0x07, extra = 3;
    else if (c >= 0xE0) cp = c & 0x0F, extra = 2;
    else cp = c & 0x1F, extra = 1;
    ++i;
    for (int k = 0; k < extra && i < t.size(); ++k, ++i) cp = (cp << 6) | (static_cast<unsigned char>(t[i]) & 0x3F);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      unit(0xD800 | (cp >> 10));
      unit(0xDC00 | (cp & 0x3FF));
    } else {
      unit(cp);
    }
  }
  return units;
}

const char *binary2Row(const char *spec, int columns, sqlite3_value **values, Out &o, Out &t) {
  // VOTable 1.4 §5.4: the null flags, most significant bit first, then every field.
  size_t mask = o.size();
  o.append((columns + 7) / 8, '\0');
  for (int i = 0; i < columns; ++i)
    if (sqlite3_value_type(values[i]) == SQLITE_NULL) o[mask + (i >> 3)] = static_cast<char>(o[mask + (i >> 3)] | (0x80 >> (i & 7)));
  for (int i = 0; i < columns; ++i) {
    sqlite3_value *v = values[i];
    int type = sqlite3_value_type(v);
    bool null = type == SQLITE_NULL;
    switch (spec[i]) {
      case 'B': {
        int b = null ? -1 : toBool(v, type);
        o += b < 0 ? '?' : b ? 'T' : 'F';
        break;
      }
      case 'S':
        putBE(o, null ? 0 : static_cast<uint16_t>(toInt32(toNumber(v, type))), 2);
        break;
      case 'I':
        putBE(o, null ? 0 : static_cast<uint32_t>(toInt32(toNumber(v, type))), 4);
        break;
      case 'L': {
        uint64_t x = 0;
        if (type == SQLITE_INTEGER) {
          x = static_cast<uint64_t>(sqlite3_value_int64(v));
        } else if (type == SQLITE_FLOAT) {
          double d = sqlite3_value_double(v);
          x = std::isfinite(d) ? wrap64(std::trunc(d)) : 0;
        } else if (!null) {
          x = textToLong(textOf(v));
        }
        putBE(o, x, 8);
        break;
      }
      case 'F':
        putFloat(o, null ? NAN : static_cast<float>(toNumber(v, type)));
        break;
      case 'D':
        putDouble(o, null ? NAN : toNumber(v, type));
        break;
      case 'C': {
        if (type == SQLITE_TEXT || type == SQLITE_BLOB) {
          Text s = textOf(v);
          putBE(o, static_cast<uint64_t>(s.n), 4);
          o.append(s.s, s.n);
          break;
        }
        t.clear();
        charText(t, v, type);
        putBE(o, t.size(), 4);
        o += t;
        break;
      }
      case 'U': {
        t.clear();
        charText(t, v, type);
        size_t at = o.size();
        o.append(4, '\0');
        uint32_t units = appendUtf16BE(o, t);
        for (int k = 0; k < 4; ++k) o[at + k] = static_cast<char>(units >> (8 * (3 - k)));
        break;
      }
      default:
        return "vo result encoder: unknown BINARY2 column letter";
    }
  }
  return nullptr;
}

/* ---- batches ------------------------------------------------------------------------------ */

using Encoder = const char *(*)(const char *spec, int columns, sqlite3_value **values, Out &out, Out &cell);

/* One result being encoded: rows not yet handed over, and the rows seen. */
struct Batch {
  Out pending;
  Out cell;
  Out handed;
  sqlite3_int64 rows = 0;
  bool base64 = false;
};

/* The thread's running results, by token: nothing of one can end up in another, whatever
 * order the thread's queries run in. */
thread_local std::unordered_map<sqlite3_int64, Batch> batches;

/* A batch is handed over from this size on: 64 KiB of base64, the JavaScript writers' chunk. */
constexpr size_t BATCH_BYTES = 49152;

const char BASE64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 characters of every 12-bit value, two at a time: 3 bytes are two lookups. */
struct Base64Pairs {
  char pairs[4096][2];
  Base64Pairs() {
    for (int i = 0; i < 4096; ++i) {
      pairs[i][0] = BASE64[i >> 6];
      pairs[i][1] = BASE64[i & 63];
    }
  }
};
const Base64Pairs base64Pairs;

/* RFC 4648 §4 base64 of `n` bytes, padded when n is not a multiple of 3. */
void appendBase64(Out &o, const unsigned char *p, size_t n) {
  size_t at = o.size();
  o.resize(at + (n + 2) / 3 * 4);
  char *d = &o[at];
  size_t i = 0;
  for (; i + 3 <= n; i += 3, d += 4) {
    uint32_t x = (uint32_t(p[i]) << 16) | (uint32_t(p[i + 1]) << 8) | p[i + 2];
    std::memcpy(d, base64Pairs.pairs[x >> 12], 2);
    std::memcpy(d + 2, base64Pairs.pairs[x & 4095], 2);
  }
  if (i < n) {
    uint32_t x = (uint32_t(p[i]) << 16) | (i + 1 < n ? uint32_t(p[i + 1]) << 8 : 0);
    d[0] = BASE64[x >> 18];
    d[1] = BASE64[(x >> 12) & 63];
    d[2] = i + 1 < n ? BASE64[(x >> 6) & 63] : '=';
    d[3] = '=';
  }
}

/* Hands the pending rows over as the function's result: text as it is; BINARY2 bytes as a
 * base64 line of whole 3-byte groups, keeping the 0–2 bytes left for the next, or at the end
 * all of them, padded. */
void handOver(sqlite3_context *ctx, Batch &batch, bool end) {
  Out &p = batch.pending;
  if (!batch.base64) {
    sqlite3_result_blob(ctx, p.data(), static_cast<int>(p.size()), SQLITE_TRANSIENT);
    p.clear();
    return;
  }
  size_t whole = end ? p.size() : p.size() - p.size() % 3;
  Out &text = batch.handed;
  text.clear();
  appendBase64(text, reinterpret_cast<const unsigned char *>(p.data()), whole);
  if (!text.empty()) text += '\n';
  p.eraseFront(whole);
  sqlite3_result_blob(ctx, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

/* vo_*_batch(token, maxrec, spec, c0, …): see the top of this file. No C++ exception is let
 * into SQLite (only running out of memory throws). */
template <Encoder encoder, bool base64>
void batchFunction(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  int columns = argc - 3;
  const char *spec = argc > 3 ? reinterpret_cast<const char *>(sqlite3_value_text(argv[2])) : nullptr;
  if (!spec || sqlite3_value_bytes(argv[2]) != columns) {
    sqlite3_result_error(ctx, "vo result encoder: (token, maxrec, spec, columns…) with one spec letter per column expected", -1);
    return;
  }
  try {
    Batch &batch = batches[sqlite3_value_int64(argv[0])];
    batch.base64 = base64;
    // The row after the last one MAXREC allows only shows that there are more.
    if (++batch.rows > sqlite3_value_int64(argv[1])) return;
    if (const char *error = encoder(spec, columns, argv + 3, batch.pending, batch.cell)) {
      sqlite3_result_error(ctx, error, -1);
      return;
    }
    if (batch.pending.size() >= BATCH_BYTES) handOver(ctx, batch, false);
  } catch (...) {
    sqlite3_result_error_nomem(ctx);
  }
}

/* vo_batch_rows(token): rows seen so far (maxrec + 1 when there were more). */
void batchRows(sqlite3_context *ctx, int, sqlite3_value **argv) {
  auto found = batches.find(sqlite3_value_int64(argv[0]));
  sqlite3_result_int64(ctx, found == batches.end() ? 0 : found->second.rows);
}

/* vo_batch_end(token): the rest of the rows, and the batch forgotten. */
void batchEnd(sqlite3_context *ctx, int, sqlite3_value **argv) {
  auto found = batches.find(sqlite3_value_int64(argv[0]));
  if (found == batches.end()) {
    sqlite3_result_zeroblob(ctx, 0);
    return;
  }
  try {
    handOver(ctx, found->second, true);
  } catch (...) {
    sqlite3_result_error_nomem(ctx);
  }
  batches.erase(found);
}

}  // namespace

extern "C" int sqlite3_vorows_init(sqlite3 *db, char **, const sqlite3_api_routines *api) {
  SQLITE_EXTENSION_INIT2(api);
  // Not deterministic (they keep state); direct only: no view, trigger or index may call them.
  const int flags = SQLITE_UTF8 | SQLITE_DIRECTONLY;
  struct {
    const char *name;
    int arguments;
    void (*fn)(sqlite3_context *, int, sqlite3_value **);
  } functions[] = {
      {"vo_binary2_batch", -1, batchFunction<binary2Row, true>},
      {"vo_csv_batch", -1, batchFunction<textRow<TextFormat::Csv>, false>},
      {"vo_tsv_batch", -1, batchFunction<textRow<TextFormat::Tsv>, false>},
      {"vo_tabledata_batch", -1, batchFunction<textRow<TextFormat::Tabledata>, false>},
      {"vo_batch_rows", 1, batchRows},
      {"vo_batch_end", 1, batchEnd},
  };
  for (const auto &f : functions) {
    int rc = sqlite3_create_function(db, f.name, f.arguments, flags, nullptr, f.fn, nullptr, nullptr);
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}
