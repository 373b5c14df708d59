// The origin-request signer as a Node.js user would write it on @smithy/signature-v4 (the signer of
// the AWS SDK for JavaScript v3) with @smithy/hash-node: a cold-start peer for
// benches/cold_start.rs, which checks every response against aws-sigv4.
//
// Same rules as edge-signer's handler for a forwarded request: the origin must be
// `<name>.s3-object-lambda.<region>.amazonaws.com[.cn]`, `<api-id>.execute-api.<region>.amazonaws.com[.cn]`
// or `<url-id>.lambda-url.<region>.on.aws` (region from the domain); `host` becomes the origin
// domain; the viewer's `authorization` and `x-amz-*` headers are dropped; signed headers are exactly
// host;x-amz-cf-id;x-amz-content-sha256;x-amz-date;x-amz-security-token, with `x-amz-cf-id` =
// config.requestId signed but not added (CloudFront adds it); the body's SHA-256 when CloudFront
// included one. S3 Object Lambda: the path put in S3 canonical form (decode, encode once, no
// dot-segment normalisation), only `showExif` kept in the query, UNSIGNED-PAYLOAD without a body.
// API Gateway and function URLs: the uri sent unchanged and signed normalised and double-encoded
// (smithy's default), the whole query but X-Amz-* parameters, the empty body's hash without a body.
// Anything else is an error (the benchmarks only send valid events; generated responses are not
// modelled here).
'use strict';

const { SignatureV4 } = require('@smithy/signature-v4');
const { Hash } = require('@smithy/hash-node');

const ALLOWED_QUERY = new Set(['showExif']);
const ORIGINS = [
  { pattern: /^(.+)\.s3-object-lambda\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/, service: 's3-object-lambda', s3: true },
  { pattern: /^(.+)\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/, service: 'execute-api', s3: false },
  { pattern: /^(.+)\.lambda-url\.([a-z0-9-]+)\.on\.aws$/, service: 'lambda', s3: false },
];
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
// Every other service: the path normalised and encoded again by smithy.
const serviceSigner = new SignatureV4({
  credentials,
  region: 'us-east-1',
  service: 'execute-api', // replaced per request by the origin's service
  sha256: Hash.bind(null, 'sha256'),
  uriEscapePath: true,
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

// The kept parameters (allow-listed, or all but X-Amz-*), form-decoded; and the canonical query
// string built from them.
function filterQuery(raw, keepAll) {
  const pairs = [];
  for (const part of raw.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = percentDecode(eq < 0 ? part : part.slice(0, eq), true, false);
    const value = percentDecode(eq < 0 ? '' : part.slice(eq + 1), true, false);
    const text = name.toString('utf8');
    if (keepAll ? !/^x-amz-/i.test(text) : ALLOWED_QUERY.has(text)) {
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

function originPath(origin) {
  return (origin.custom || origin.s3).path || '';
}

exports.handler = async (event) => {
  const cf = event.Records[0].cf;
  if (cf.config.eventType !== 'origin-request') {
    throw new Error(`eventType is ${cf.config.eventType}, expected origin-request`);
  }
  const request = cf.request;
  const domain = originDomain(request.origin);
  const kind = ORIGINS.find((k) => k.pattern.test(domain));
  if (!kind) {
    throw new Error(`origin ${domain} is not an origin this peer signs for`);
  }
  const region = kind.pattern.exec(domain)[2];

  const uri = kind.s3 ? canonicalPath(request.uri) : request.uri;
  const { query, querystring } = filterQuery(request.querystring || '', !kind.s3);

  const toSign = {
    method: request.method,
    protocol: 'https:',
    hostname: domain,
    path: originPath(request.origin) + uri, // CloudFront sends the origin path in front of the uri
    query,
    headers: { host: domain, 'x-amz-cf-id': cf.config.requestId },
  };
  if (request.body && request.body.data !== undefined && request.body.data !== '') {
    if (request.body.inputTruncated) {
      throw new Error('the body was truncated by CloudFront');
    }
    toSign.body = Buffer.from(request.body.data, request.body.encoding === 'base64' ? 'base64' : 'utf8');
  } else if (kind.s3) {
    toSign.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  }
  const signed = kind.s3
    ? await signer.sign(toSign, { signingRegion: region })
    : await serviceSigner.sign(toSign, { signingRegion: region, signingService: kind.service });

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
