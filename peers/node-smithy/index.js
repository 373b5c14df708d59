// The origin-request signer as a Node.js user would write it on @smithy/signature-v4 (the signer of
// the AWS SDK for JavaScript v3) with @smithy/hash-node: a cold-start peer for
// benches/cold_start.rs, which checks every response against aws-sigv4.
//
// Same rules as edge-signer's handler for a forwarded request: the origin must be
// `<name>.s3-object-lambda.<region>.amazonaws.com[.cn]` (region from the domain); `host` becomes the
// origin domain; the viewer's `authorization` and `x-amz-*` headers are dropped; the path is put in
// S3 canonical form (decode, encode once, no dot-segment normalisation); only `showExif` is kept in
// the query; signed headers are exactly host;x-amz-cf-id;x-amz-content-sha256;x-amz-date;
// x-amz-security-token, with `x-amz-cf-id` = config.requestId signed but not added (CloudFront adds
// it); UNSIGNED-PAYLOAD without a body, the body's SHA-256 with one. Anything else is an error
// (the benchmark only sends valid events; generated responses are not modelled here).
'use strict';

const { SignatureV4 } = require('@smithy/signature-v4');
const { Hash } = require('@smithy/hash-node');

const ALLOWED_QUERY = new Set(['showExif']);
const ORIGIN = /^(.+)\.s3-object-lambda\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;
const UNRESERVED = /[A-Za-z0-9\-_.~]/;

// Read once at init, as the execution role's credentials arrive in the environment.
const credentials = {
  accessKeyId: process.env.AWS_ACCESS_KEY_ID,
  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
  sessionToken: process.env.AWS_SESSION_TOKEN,
};

const signer = new SignatureV4({
  credentials,
  region: 'us-east-1', // replaced per request by the origin's region
  service: 's3-object-lambda',
  sha256: Hash.bind(null, 'sha256'),
  uriEscapePath: false, // S3: the path is signed as given (we canonicalise it ourselves)
  applyChecksum: true,
});

function encodeByte(byte, keepSlash) {
  const c = String.fromCharCode(byte);
  if (byte < 0x80 && (UNRESERVED.test(c) || (keepSlash && c === '/'))) {
    return c;
  }
  return '%' + byte.toString(16).toUpperCase().padStart(2, '0');
}

function percentDecode(text, plusIsSpace, strict) {
  const bytes = Buffer.from(text, 'utf8');
  const out = [];
  for (let i = 0; i < bytes.length; i += 1) {
    const b = bytes[i];
    if (b === 0x25) {
      const hex = bytes.subarray(i + 1, i + 3).toString('latin1');
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        out.push(parseInt(hex, 16));
        i += 2;
        continue;
      }
      if (strict) {
        throw new Error(`invalid percent-encoding in ${JSON.stringify(text)}`);
      }
    }
    out.push(plusIsSpace && b === 0x2b ? 0x20 : b);
  }
  return Buffer.from(out);
}

function encode(bytes, keepSlash) {
  let out = '';
  for (const b of bytes) {
    out += encodeByte(b, keepSlash);
  }
  return out;
}

// S3 canonical path: decode every escape, then encode every byte outside A-Za-z0-9-_.~ once.
function canonicalPath(uri) {
  const key = percentDecode(uri, false, true);
  new TextDecoder('utf-8', { fatal: true }).decode(key); // throws on invalid UTF-8
  return encode(key, true);
}

// The allow-listed parameters, form-decoded; and the canonical query string built from them.
function filterQuery(raw) {
  const pairs = [];
  for (const part of raw.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = percentDecode(eq < 0 ? part : part.slice(0, eq), true, false);
    const value = percentDecode(eq < 0 ? '' : part.slice(eq + 1), true, false);
    if (ALLOWED_QUERY.has(name.toString('utf8'))) {
      pairs.push([encode(name, false), encode(value, false), name.toString('utf8'), value.toString('utf8')]);
    }
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  const query = {};
  for (const [, , name, value] of pairs) {
    if (name in query) {
      query[name] = [].concat(query[name], value);
    } else {
      query[name] = value;
    }
  }
  return { query, querystring: pairs.map(([n, v]) => `${n}=${v}`).join('&') };
}

function originDomain(origin) {
  const kinds = ['custom', 's3'].filter((k) => origin && origin[k]);
  if (kinds.length !== 1) {
    throw new Error('request.origin must hold exactly one of custom or s3');
  }
  return origin[kinds[0]].domainName;
}

exports.handler = async (event) => {
  const cf = event.Records[0].cf;
  if (cf.config.eventType !== 'origin-request') {
    throw new Error(`eventType is ${cf.config.eventType}, expected origin-request`);
  }
  const request = cf.request;
  const domain = originDomain(request.origin);
  const match = ORIGIN.exec(domain);
  if (!match) {
    throw new Error(`origin ${domain} is not an S3 Object Lambda access point`);
  }
  const region = match[2];

  const uri = canonicalPath(request.uri);
  const { query, querystring } = filterQuery(request.querystring || '');

  const toSign = {
    method: request.method,
    protocol: 'https:',
    hostname: domain,
    path: uri,
    query,
    headers: { host: domain, 'x-amz-cf-id': cf.config.requestId },
  };
  if (request.body && request.body.data !== undefined && request.body.data !== '') {
    if (request.body.inputTruncated) {
      throw new Error('the body was truncated by CloudFront');
    }
    toSign.body = Buffer.from(request.body.data, request.body.encoding === 'base64' ? 'base64' : 'utf8');
  } else {
    toSign.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  }
  const signed = await signer.sign(toSign, { signingRegion: region });

  const headers = {};
  for (const [name, fields] of Object.entries(request.headers || {})) {
    if (name === 'authorization' || name === 'host' || name.startsWith('x-amz-')) continue;
    headers[name] = fields;
  }
  headers.host = [{ key: 'Host', value: domain }];
  const added = [
    ['x-amz-date', 'X-Amz-Date'],
    ['x-amz-content-sha256', 'X-Amz-Content-SHA256'],
    ['x-amz-security-token', 'X-Amz-Security-Token'],
    ['authorization', 'Authorization'],
  ];
  for (const [name, key] of added) {
    if (signed.headers[name] !== undefined) {
      headers[name] = [{ key, value: signed.headers[name] }];
    }
  }
  return { ...request, uri, querystring, headers };
};
