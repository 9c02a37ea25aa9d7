// SPDX-License-Identifier: MIT
// csv.js - RFC 4180 records for the import's dry run: fields separated by one delimiter
// character, double-quoted fields may hold the delimiter, line breaks and doubled quotes, lines
// end with CR LF or LF. The gateway parses the same text again on import (specs/rest-api.md
// 4.8); this copy only previews. Capped at MAX_BYTES of text and MAX_RECORDS records.

export const MAX_BYTES = 16 * 1024 * 1024;
export const MAX_RECORDS = 100000;

// Returns {records: [[cell, ...], ...], error: null | 'text'}.
export function parseCsv(text, delim = ',') {
  if (text.length > MAX_BYTES) return { records: [], error: 'The file is larger than 16 MiB.' };
  const records = [];
  let rec = [];
  let cell = '';
  let quoted = false;
  let i = 0;
  const endCell = () => { rec.push(cell); cell = ''; };
  const endRec = () => {
    endCell();
    if (!(rec.length === 1 && rec[0] === '')) records.push(rec);
    rec = [];
  };
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else cell += c;
      i++;
      continue;
    }
    if (c === '"' && cell === '') quoted = true;
    else if (c === delim) endCell();
    else if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
      if (c === '\r') i++;
      endRec();
      if (records.length > MAX_RECORDS) return { records, error: `More than ${MAX_RECORDS} records.` };
    } else cell += c;
    i++;
  }
  if (quoted) return { records, error: 'A quoted field is not closed.' };
  if (cell !== '' || rec.length) endRec();
  return { records, error: null };
}

export const COLUMN_TYPES = ['NAME', 'TYPE', 'LABEL', 'DESCRIPTION', 'IS_GATEWAY', 'ACCESS_TOKEN', 'X509',
  'SHARED_ATTRIBUTE', 'SERVER_ATTRIBUTE', 'TIMESERIES'];
export const KEYED = new Set(['SHARED_ATTRIBUTE', 'SERVER_ATTRIBUTE', 'TIMESERIES']);

// A first guess of a column's type from its header cell.
export function guessColumn(header) {
  const k = header.trim().toLowerCase().replace(/[\s_-]+/g, '');
  const map = {
    name: 'NAME', devicename: 'NAME', device: 'NAME', type: 'TYPE', profile: 'TYPE', deviceprofile: 'TYPE',
    label: 'LABEL', description: 'DESCRIPTION', isgateway: 'IS_GATEWAY', gateway: 'IS_GATEWAY',
    token: 'ACCESS_TOKEN', accesstoken: 'ACCESS_TOKEN', cloudtoken: 'ACCESS_TOKEN', x509: 'X509', certificate: 'X509',
  };
  return map[k] ? { type: map[k] } : { type: 'SERVER_ATTRIBUTE', key: header.trim() || 'column' };
}
