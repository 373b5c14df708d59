'use strict';
// Shared by the tests in ../test: paths, the reference CLI, the unzipped packages, and a seeded
// generator of CloudFront origin-request events. (Not under test/, so the runner does not count it
// as a test file.)

const { spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
const EVENTS = path.join(ROOT, 'vectors/events');
const DIST = process.env.EDGE_SIGNER_DIST || path.join(ROOT, 'dist');
// The reference: the release CLI that scripts/package builds beside the bootstrap.
const CLI = process.env.EDGE_SIGNER_CLI || path.join(ROOT, 'target/release/edge-signer');

// The clock and credentials of the goldens in vectors/events (see its README). Not real secrets.
const AT = '2015-08-30T12:36:00Z';
const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  AWS_SESSION_TOKEN: '6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267',
};

/** `edge-signer sign --at AT [--config FILE]` on `input` (bytes or string): status, stdout, stderr. */
function cliSign(input, { at = AT, config, env = CREDENTIALS } = {}) {
  const args = ['sign', '--at', at, ...(config ? ['--config', config] : [])];
  const result = spawnSync(CLI, args, { input, env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
  if (result.error) throw new Error(`cannot run ${CLI} (build it with scripts/package): ${result.error.message}`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The message `edge-signer sign` printed for a refused event, without its prefix and line end. */
function cliError(result) {
  const prefix = 'edge-signer sign: ';
  if (result.status !== 1 || !result.stderr.startsWith(prefix) || !result.stderr.endsWith('\n')) {
    throw new Error(`expected a refusal from the CLI, got status ${result.status}: ${result.stderr}${result.stdout}`);
  }
  return result.stderr.slice(prefix.length, -1);
}

const temps = [];
process.on('exit', () => temps.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** A fresh directory holding the contents of dist/NAME, removed when the process exits. */
function unzip(name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-signer-package-'));
  temps.push(dir);
  execFileSync('unzip', ['-q', path.join(DIST, name), '-d', dir]);
  return dir;
}

/** The shipped cases: name, event bytes, and the expected output or error, and the config file. */
function shippedCases() {
  return fs
    .readdirSync(EVENTS)
    .filter((f) => f.endsWith('.json') && !/\.(expected|config)\.json$/.test(f))
    .sort()
    .map((file) => {
      const name = file.slice(0, -'.json'.length);
      const read = (suffix) => {
        const p = path.join(EVENTS, name + suffix);
        return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : undefined;
      };
      const config = path.join(EVENTS, `${name}.config.json`);
      return {
        name,
        bytes: fs.readFileSync(path.join(EVENTS, file)),
        expected: read('.expected.json'),
        expectedError: read('.expected-error.txt'),
        config: fs.existsSync(config) ? config : undefined,
      };
    });
}

/**
 * `text` with every SigV4A (ECDSA) signature replaced by `<ecdsa>`: ECDSA signatures are randomised,
 * so two signers (or two calls) agree on everything else. The Rust tests verify each one with the
 * derived public key (tests/origin_kinds.rs). SigV4 (HMAC) signatures are left as they are.
 */
function withoutEcdsaSignature(text) {
  return text.replace(/(AWS4-ECDSA-P256-SHA256 [^"]*?Signature=)[0-9a-f]+/g, '$1<ecdsa>');
}

/** An error message without serde_json's position, which depends on the event's formatting. */
function withoutPosition(message) {
  return message.replace(/ at line \d+ column \d+$/, '');
}

// ---- A seeded generator of origin-request events, most valid, some malformed. ----

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DOMAINS = [
  'myap-123456789012.s3-object-lambda.us-west-2.amazonaws.com',
  'photos-111122223333.s3-object-lambda.eu-central-1.amazonaws.com',
  'cn-ap-123456789012.s3-object-lambda.cn-north-1.amazonaws.com.cn',
  'bucket.s3.us-east-1.amazonaws.com',
  'example.com',
  'x.s3-object-lambda.amazonaws.com',
  'a1b2c3d4e5.execute-api.us-east-1.amazonaws.com',
  'abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws',
  'mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com',
];
const PATH_PIECES = ['photos', 'a b', 'IMG_0042 (1).jpg', 'é', '€', '😀', '+', "()!*':@,=$&;", '%20', '%2F',
  '%e2%82%ac', '%zz', '%', '..', '.', '', '~_-.', 'UPPER', '%C3', 'q?x', '#frag'];
const QUERY_NAMES = ['showExif', 'showexif', 'SHOWEXIF', 'w', 'h', 'utm_source', 'show%45xif', 'a b', '%2b', '',
  'X-Amz-Signature', 'x-amz-date'];
const QUERY_VALUES = ['true', 'false', '', 'a+b', '%2B', 'x y', '%FF', 'é', '1&2', '=='];
const HEADERS = [
  ['accept', 'Accept', ['image/avif,image/webp', '*/*']],
  ['accept-encoding', 'Accept-Encoding', ['gzip', 'br, gzip']],
  ['authorization', 'Authorization', ['Bearer viewer', 'AWS4-HMAC-SHA256 Credential=x']],
  ['range', 'Range', ['bytes=0-99']],
  ['x-amz-date', 'X-Amz-Date', ['20200101T000000Z']],
  ['x-amz-security-token', 'X-Amz-Security-Token', ['viewer-token']],
  ['x-amz-meta-x', 'x-amz-meta-X', ['1']],
  ['if-none-match', 'If-None-Match', ['"abc"']],
  ['cookie', 'Cookie', ['a=1', 'b=2']],
  ['x-custom', 'X-Custom', ['  spaced   out  ', '\ttab', 'ünï']],
];

/** `count` events from `seed`, each with a label saying what it is. */
function randomEvents(seed, count) {
  const random = mulberry32(seed);
  const int = (n) => Math.floor(random() * n);
  const pick = (list) => list[int(list.length)];
  const chance = (p) => random() < p;
  const events = [];
  for (let i = 0; i < count; i++) {
    let uri = '/' + Array.from({ length: 1 + int(4) }, () => pick(PATH_PIECES)).join(chance(0.1) ? '//' : '/');
    if (chance(0.03)) uri += 'x'.repeat(8190);
    const query = Array.from({ length: int(4) }, () => {
      const name = pick(QUERY_NAMES);
      return chance(0.15) ? name : `${name}=${pick(QUERY_VALUES)}`;
    }).join('&');
    const headers = {
      host: [{ key: 'Host', value: 'd111111abcdef8.cloudfront.net' }],
      via: [{ key: 'Via', value: '2.0 2afae0d44e2540f472c0635ab62c232b.cloudfront.net (CloudFront)' }],
    };
    for (const [name, key, values] of HEADERS) {
      if (chance(0.3)) headers[name] = values.slice(0, 1 + int(values.length)).map((value) => ({ key, value }));
    }
    const domainName = pick(DOMAINS);
    const origin = chance(0.5)
      ? { custom: { customHeaders: {}, domainName, keepaliveTimeout: 5, path: '', port: 443, protocol: 'https',
        readTimeout: 30, sslProtocols: ['TLSv1.2'] } }
      : { s3: { authMethod: 'none', customHeaders: {}, domainName, path: '', region: 'us-west-2' } };
    const request = { clientIp: '203.0.113.178', headers, method: pick(['GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS']),
      origin, querystring: query, uri };
    if (chance(0.15)) {
      const text = pick(['', 'hello', 'é€😀', '{"a":1}']);
      const encoding = pick(['base64', 'text']);
      request.body = { action: 'read-only', data: encoding === 'base64' ? Buffer.from(text).toString('base64') : text,
        encoding, inputTruncated: chance(0.2) };
    }
    const event = { Records: [{ cf: { config: { distributionDomainName: 'd111111abcdef8.cloudfront.net',
      distributionId: 'EDFDVBD6EXAMPLE', eventType: 'origin-request',
      requestId: `req-${seed}-${i}-${int(1e9).toString(36)}==` }, request } }] };
    let label = 'valid';
    if (chance(0.12)) {
      label = pick(['viewer-request', 'uri-number', 'crlf', 'no-method', 'upper-header', 'two-records', 'both-origins']);
      const cf = event.Records[0].cf;
      if (label === 'viewer-request') cf.config.eventType = 'viewer-request';
      if (label === 'uri-number') request.uri = 42;
      if (label === 'crlf') headers.via[0].value += '\r\nX-Injected: 1';
      if (label === 'no-method') delete request.method;
      if (label === 'upper-header') headers['X-Upper'] = [{ key: 'X-Upper', value: '1' }];
      if (label === 'two-records') event.Records.push(event.Records[0]);
      if (label === 'both-origins') request.origin = { custom: { domainName, path: '' }, s3: { domainName, path: '' } };
    }
    events.push({ label, event });
  }
  return events;
}

module.exports = { ROOT, EVENTS, DIST, CLI, AT, CREDENTIALS, cliSign, cliError, unzip, shippedCases,
  withoutPosition, withoutEcdsaSignature, randomEvents };
