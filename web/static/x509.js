// SPDX-License-Identifier: MIT
// x509.js - just enough DER to show an operator what certificate they pasted before it is saved:
// subject, issuer, validity and the SHA-256 of the DER bytes (the credentialsId the gateway will
// compute, specs/rest-api.md 4.6). Input is PEM text, capped at 64 KiB; every length is checked
// against the buffer, so a broken paste gives an error, never a wrong answer.
//
//   Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber,
//     signature AlgorithmIdentifier, issuer Name, validity SEQUENCE { notBefore, notAfter },
//     subject Name, ... }, ... }
//   Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value string }

const MAX_PEM = 65536;
const NAMES = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber', '1.2.840.113549.1.9.1': 'emailAddress',
};

function tlv(b, pos, end) {
  if (pos + 2 > end) throw new Error('truncated');
  const tag = b[pos];
  let len = b[pos + 1];
  let off = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || off + n > end) throw new Error('bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[off + i];
    off += n;
  }
  if (off + len > end) throw new Error('truncated');
  return { tag, start: off, end: off + len, next: off + len };
}

function children(b, t) {
  const out = [];
  for (let p = t.start; p < t.end;) {
    const c = tlv(b, p, t.end);
    out.push(c);
    p = c.next;
  }
  return out;
}

function oid(b, t) {
  const parts = [Math.floor(b[t.start] / 40), b[t.start] % 40];
  let v = 0;
  for (let i = t.start + 1; i < t.end; i++) {
    v = v * 128 + (b[i] & 0x7f);
    if (!(b[i] & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

function text(b, t) {
  return new TextDecoder(t.tag === 0x1e ? 'utf-16be' : 'utf-8').decode(b.subarray(t.start, t.end));
}

function name(b, t) {
  const parts = [];
  for (const set of children(b, t)) {
    for (const atv of children(b, set)) {
      const [type, value] = children(b, atv);
      parts.push(`${NAMES[oid(b, type)] || oid(b, type)}=${text(b, value)}`);
    }
  }
  return parts.join(', ') || '(empty)';
}

function time(b, t) {
  const s = text(b, t);
  const m = t.tag === 0x17 ? /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s)
    : /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s);
  if (!m) throw new Error(`bad time ${s}`);
  let y = Number(m[1]);
  if (t.tag === 0x17) y += y < 50 ? 2000 : 1900;
  return Date.UTC(y, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

function derOf(pem) {
  if (pem.length > MAX_PEM) throw new Error('longer than 64 KiB');
  const body = pem.replace(/-----BEGIN CERTIFICATE-----|-----END CERTIFICATE-----|\s/g, '');
  if (!/^[A-Za-z0-9+/]+=*$/.test(body)) throw new Error('not base64 PEM');
  const bin = atob(body);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

// Returns {subject, issuer, notBefore, notAfter (ms), sha256 (hex or null)}; throws on bad input.
export async function certInfo(pem) {
  const b = derOf(pem);
  const cert = tlv(b, 0, b.length);
  const tbs = children(b, cert)[0];
  if (cert.tag !== 0x30 || !tbs || tbs.tag !== 0x30) throw new Error('not a certificate');
  const f = children(b, tbs);
  const i = f[0].tag === 0xa0 ? 1 : 0;
  const validity = children(b, f[i + 3]);
  let sha256 = null;
  if (crypto.subtle) {
    const d = new Uint8Array(await crypto.subtle.digest('SHA-256', b.subarray(0, cert.next)));
    sha256 = Array.from(d, (x) => x.toString(16).padStart(2, '0')).join('');
  }
  return { issuer: name(b, f[i + 2]), notBefore: time(b, validity[0]), notAfter: time(b, validity[1]),
    subject: name(b, f[i + 4]), sha256 };
}
