/**
 * The HTML5 tokenizer libinjection's XSS check uses: a reduced version of the WHATWG tokenizer
 * state machine that reports tag names, attribute names and values, comments and doctypes, and
 * starts in any of the contexts an injected value can land in (text, or an attribute value
 * unquoted, single-, double- or back-quoted). Input is a byte string (one char per byte).
 * Not a DOM parser: no tree, no entity decoding, no error recovery beyond upstream's.
 */

export type Html5TokenType =
  | 'DATA_TEXT'
  | 'TAG_NAME_OPEN'
  | 'TAG_NAME_CLOSE'
  | 'TAG_NAME_SELFCLOSE'
  | 'TAG_DATA'
  | 'TAG_CLOSE'
  | 'ATTR_NAME'
  | 'ATTR_VALUE'
  | 'TAG_COMMENT'
  | 'DOCTYPE';

export type Html5Context =
  | 'DATA_STATE'
  | 'VALUE_NO_QUOTE'
  | 'VALUE_SINGLE_QUOTE'
  | 'VALUE_DOUBLE_QUOTE'
  | 'VALUE_BACK_QUOTE';

type State = (h: Html5State) => boolean;

/** One tokenizer run; call `next()` until it returns false, reading `type`/`start`/`len`. */
export class Html5State {
  readonly s: string;
  readonly len: number;
  pos = 0;
  isClose = false;
  state: State;
  type: Html5TokenType = 'DATA_TEXT';
  start = 0;
  tokenLen = 0;

  constructor(s: string, context: Html5Context = 'DATA_STATE') {
    this.s = s;
    this.len = s.length;
    this.state = {
      DATA_STATE: stateData,
      VALUE_NO_QUOTE: stateBeforeAttributeName,
      VALUE_SINGLE_QUOTE: stateAttributeValueSingleQuote,
      VALUE_DOUBLE_QUOTE: stateAttributeValueDoubleQuote,
      VALUE_BACK_QUOTE: stateAttributeValueBackQuote,
    }[context];
  }

  next(): boolean {
    return this.state(this);
  }

  get value(): string {
    return this.s.slice(this.start, this.start + this.tokenLen);
  }
}

const isWhite = (c: string | undefined) => c !== undefined && ' \t\n\v\f\r\0'.includes(c);
const isAlpha = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

function emit(h: Html5State, type: Html5TokenType, start: number, len: number): void {
  h.type = type;
  h.start = start;
  h.tokenLen = len;
}

/** Skips whitespace (with NUL, VT and CR, as IE does); returns the next char or '' at the end. */
function skipWhite(h: Html5State): string {
  while (h.pos < h.len) {
    const c = h.s[h.pos] as string;
    if (!isWhite(c)) return c;
    h.pos += 1;
  }
  return '';
}

const stateEof: State = () => false;

function stateData(h: Html5State): boolean {
  const idx = h.s.indexOf('<', h.pos);
  if (idx === -1) {
    emit(h, 'DATA_TEXT', h.pos, h.len - h.pos);
    h.state = stateEof;
    return h.tokenLen !== 0;
  }
  emit(h, 'DATA_TEXT', h.pos, idx - h.pos);
  h.pos = idx + 1;
  h.state = stateTagOpen;
  if (h.tokenLen === 0) return stateTagOpen(h);
  return true;
}

function stateTagOpen(h: Html5State): boolean {
  if (h.pos >= h.len) return false;
  const c = h.s[h.pos] as string;
  if (c === '!') {
    h.pos += 1;
    return stateMarkupDeclarationOpen(h);
  }
  if (c === '/') {
    h.pos += 1;
    h.isClose = true;
    return stateEndTagOpen(h);
  }
  if (c === '?') {
    h.pos += 1;
    return stateBogusComment(h);
  }
  if (c === '%') {
    // <% … %>: not in the spec, used by IE <= 9 and Safari < 4.0.3
    h.pos += 1;
    return stateBogusComment2(h);
  }
  if (isAlpha(c) || c === '\0') return stateTagName(h);
  if (h.pos === 0) return stateData(h);
  emit(h, 'DATA_TEXT', h.pos - 1, 1);
  h.state = stateData;
  return true;
}

function stateEndTagOpen(h: Html5State): boolean {
  if (h.pos >= h.len) return false;
  const c = h.s[h.pos] as string;
  if (c === '>') return stateData(h);
  if (isAlpha(c)) return stateTagName(h);
  h.isClose = false;
  return stateBogusComment(h);
}

function stateTagNameClose(h: Html5State): boolean {
  h.isClose = false;
  emit(h, 'TAG_NAME_CLOSE', h.pos, 1);
  h.pos += 1;
  h.state = h.pos < h.len ? stateData : stateEof;
  return true;
}

function stateTagName(h: Html5State): boolean {
  let pos = h.pos;
  while (pos < h.len) {
    const c = h.s[pos] as string;
    if (c === '\0') {
      pos += 1; // old browsers ignore NULs inside tag names
    } else if (isWhite(c)) {
      emit(h, 'TAG_NAME_OPEN', h.pos, pos - h.pos);
      h.pos = pos + 1;
      h.state = stateBeforeAttributeName;
      return true;
    } else if (c === '/') {
      emit(h, 'TAG_NAME_OPEN', h.pos, pos - h.pos);
      h.pos = pos + 1;
      h.state = stateSelfClosingStartTag;
      return true;
    } else if (c === '>') {
      if (h.isClose) {
        emit(h, 'TAG_CLOSE', h.pos, pos - h.pos);
        h.pos = pos + 1;
        h.isClose = false;
        h.state = stateData;
      } else {
        emit(h, 'TAG_NAME_OPEN', h.pos, pos - h.pos);
        h.pos = pos;
        h.state = stateTagNameClose;
      }
      return true;
    } else {
      pos += 1;
    }
  }
  emit(h, 'TAG_NAME_OPEN', h.pos, h.len - h.pos);
  h.state = stateEof;
  return true;
}

function stateBeforeAttributeName(h: Html5State): boolean {
  const c = skipWhite(h);
  if (c === '') return false;
  if (c === '/') {
    h.pos += 1;
    return stateSelfClosingStartTag(h);
  }
  if (c === '>') {
    h.state = stateData;
    emit(h, 'TAG_NAME_CLOSE', h.pos, 1);
    h.pos += 1;
    return true;
  }
  return stateAttributeName(h);
}

function stateAttributeName(h: Html5State): boolean {
  let pos = h.pos + 1;
  while (pos < h.len) {
    const c = h.s[pos] as string;
    if (isWhite(c)) {
      emit(h, 'ATTR_NAME', h.pos, pos - h.pos);
      h.state = stateAfterAttributeName;
      h.pos = pos + 1;
      return true;
    }
    if (c === '/') {
      emit(h, 'ATTR_NAME', h.pos, pos - h.pos);
      h.state = stateSelfClosingStartTag;
      h.pos = pos + 1;
      return true;
    }
    if (c === '=') {
      emit(h, 'ATTR_NAME', h.pos, pos - h.pos);
      h.state = stateBeforeAttributeValue;
      h.pos = pos + 1;
      return true;
    }
    if (c === '>') {
      emit(h, 'ATTR_NAME', h.pos, pos - h.pos);
      h.state = stateTagNameClose;
      h.pos = pos;
      return true;
    }
    pos += 1;
  }
  emit(h, 'ATTR_NAME', h.pos, h.len - h.pos);
  h.state = stateEof;
  h.pos = h.len;
  return true;
}

function stateAfterAttributeName(h: Html5State): boolean {
  const c = skipWhite(h);
  if (c === '') return false;
  if (c === '/') {
    h.pos += 1;
    return stateSelfClosingStartTag(h);
  }
  if (c === '=') {
    h.pos += 1;
    return stateBeforeAttributeValue(h);
  }
  if (c === '>') return stateTagNameClose(h);
  return stateAttributeName(h);
}

function stateBeforeAttributeValue(h: Html5State): boolean {
  const c = skipWhite(h);
  if (c === '') {
    h.state = stateEof;
    return false;
  }
  if (c === '"') return stateAttributeValueDoubleQuote(h);
  if (c === "'") return stateAttributeValueSingleQuote(h);
  if (c === '`') return stateAttributeValueBackQuote(h); // IE
  return stateAttributeValueNoQuote(h);
}

function attributeValueQuote(h: Html5State, q: string): boolean {
  // At pos 0 the run started inside a value: there is no opening quote to skip.
  if (h.pos > 0) h.pos += 1;
  const idx = h.s.indexOf(q, h.pos);
  if (idx === -1) {
    emit(h, 'ATTR_VALUE', h.pos, h.len - h.pos);
    h.state = stateEof;
  } else {
    emit(h, 'ATTR_VALUE', h.pos, idx - h.pos);
    h.state = stateAfterAttributeValueQuoted;
    h.pos += h.tokenLen + 1;
  }
  return true;
}

const stateAttributeValueDoubleQuote: State = (h) => attributeValueQuote(h, '"');
const stateAttributeValueSingleQuote: State = (h) => attributeValueQuote(h, "'");
const stateAttributeValueBackQuote: State = (h) => attributeValueQuote(h, '`');

function stateAttributeValueNoQuote(h: Html5State): boolean {
  let pos = h.pos;
  while (pos < h.len) {
    const c = h.s[pos] as string;
    if (isWhite(c)) {
      emit(h, 'ATTR_VALUE', h.pos, pos - h.pos);
      h.pos = pos + 1;
      h.state = stateBeforeAttributeName;
      return true;
    }
    if (c === '>') {
      emit(h, 'ATTR_VALUE', h.pos, pos - h.pos);
      h.pos = pos;
      h.state = stateTagNameClose;
      return true;
    }
    pos += 1;
  }
  h.state = stateEof;
  emit(h, 'ATTR_VALUE', h.pos, h.len - h.pos);
  return true;
}

function stateAfterAttributeValueQuoted(h: Html5State): boolean {
  if (h.pos >= h.len) return false;
  const c = h.s[h.pos] as string;
  if (isWhite(c)) {
    h.pos += 1;
    return stateBeforeAttributeName(h);
  }
  if (c === '/') {
    h.pos += 1;
    return stateSelfClosingStartTag(h);
  }
  if (c === '>') {
    emit(h, 'TAG_NAME_CLOSE', h.pos, 1);
    h.pos += 1;
    h.state = stateData;
    return true;
  }
  return stateBeforeAttributeName(h);
}

function stateSelfClosingStartTag(h: Html5State): boolean {
  if (h.pos >= h.len) return false;
  if (h.s[h.pos] === '>') {
    emit(h, 'TAG_NAME_SELFCLOSE', h.pos - 1, 2);
    h.state = stateData;
    h.pos += 1;
    return true;
  }
  return stateBeforeAttributeName(h);
}

function stateBogusComment(h: Html5State): boolean {
  const pos = h.pos;
  const idx = h.s.indexOf('>', pos);
  if (idx === -1) {
    emit(h, 'TAG_COMMENT', pos, h.len - pos);
    h.pos = h.len;
    h.state = stateEof;
  } else {
    emit(h, 'TAG_COMMENT', pos, idx - pos);
    h.pos = idx + 1;
    h.state = stateData;
  }
  return true;
}

function stateBogusComment2(h: Html5State): boolean {
  let pos = h.pos;
  for (;;) {
    const idx = h.s.indexOf('%', pos);
    if (idx === -1 || idx + 1 >= h.len) {
      emit(h, 'TAG_COMMENT', h.pos, h.len - h.pos);
      h.pos = h.len;
      h.state = stateEof;
      return true;
    }
    if (h.s[idx + 1] !== '>') {
      pos = idx + 1;
      continue;
    }
    emit(h, 'TAG_COMMENT', h.pos, idx - h.pos);
    h.pos = idx + 2;
    h.state = stateData;
    return true;
  }
}

function stateMarkupDeclarationOpen(h: Html5State): boolean {
  const rest = h.len - h.pos;
  const seven = h.s.slice(h.pos, h.pos + 7);
  if (rest >= 7 && seven.toUpperCase() === 'DOCTYPE' && /^[a-z]+$/i.test(seven)) {
    return stateDoctype(h);
  }
  if (rest >= 7 && seven === '[CDATA[') {
    h.pos += 7;
    return stateCdata(h);
  }
  if (rest >= 2 && h.s[h.pos] === '-' && h.s[h.pos + 1] === '-') {
    h.pos += 2;
    return stateComment(h);
  }
  return stateBogusComment(h);
}

/** Comments end at EOF, "-->" or "-!>" (NULs between the dashes are ignored). */
function stateComment(h: Html5State): boolean {
  let pos = h.pos;
  const end = h.len;
  const toEof = () => {
    h.state = stateEof;
    emit(h, 'TAG_COMMENT', h.pos, h.len - h.pos);
    return true;
  };
  for (;;) {
    const idx = h.s.indexOf('-', pos);
    if (idx === -1 || idx > h.len - 3) return toEof();
    let offset = 1;
    while (idx + offset < end && h.s[idx + offset] === '\0') offset += 1;
    if (idx + offset === end) return toEof();
    let c = h.s[idx + offset];
    if (c !== '-' && c !== '!') {
      pos = idx + 1;
      continue;
    }
    offset += 1;
    if (idx + offset === end) return toEof();
    c = h.s[idx + offset];
    if (c !== '>') {
      pos = idx + 1;
      continue;
    }
    offset += 1;
    emit(h, 'TAG_COMMENT', h.pos, idx - h.pos);
    h.pos = idx + offset;
    h.state = stateData;
    return true;
  }
}

function stateCdata(h: Html5State): boolean {
  let pos = h.pos;
  for (;;) {
    const idx = h.s.indexOf(']', pos);
    if (idx === -1 || idx > h.len - 3) {
      h.state = stateEof;
      emit(h, 'DATA_TEXT', h.pos, h.len - h.pos);
      return true;
    }
    if (h.s[idx + 1] === ']' && h.s[idx + 2] === '>') {
      h.state = stateData;
      emit(h, 'DATA_TEXT', h.pos, idx - h.pos);
      h.pos = idx + 3;
      return true;
    }
    pos = idx + 1;
  }
}

function stateDoctype(h: Html5State): boolean {
  const idx = h.s.indexOf('>', h.pos);
  if (idx === -1) {
    emit(h, 'DOCTYPE', h.pos, h.len - h.pos);
    h.state = stateEof;
  } else {
    emit(h, 'DOCTYPE', h.pos, idx - h.pos);
    h.state = stateData;
    h.pos = idx + 1;
  }
  return true;
}
