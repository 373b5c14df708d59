'use strict';
// The steps of a POST with a body, timed apart (bench-results/2026-12-05-origins.md): the addon's
// handleDetached with a base64 body, a text body and no body data, and what Node itself pays for
// the same work (SHA-256, base64 decoding, JSON.stringify of the event with the body inside).
//
// Usage: node node/bench/body-steps.js DIR [--body-kb N]   (DIR: dist/lambda-edge.zip unzipped)
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const ROOT = path.resolve(__dirname, '../..');
const [dir, flag, kb] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node node/bench/body-steps.js DIR [--body-kb N]');
  process.exit(2);
}
const KIB = flag === '--body-kb' ? Number(kb) : 64;
// The credentials of the shipped goldens (vectors/events/README.md): not real secrets.
const { Signer } = require(path.resolve(dir, 'edge_signer.node'));
const signer = new Signer('AKIDEXAMPLE', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  '6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267', null);

const event = JSON.parse(fs.readFileSync(path.join(ROOT, 'vectors/events/function-url-post.json'), 'utf8'));
const request = event.Records[0].cf.request;
const bytes = Buffer.alloc(KIB * 1024);
for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + 7) & 0xff;
const data = bytes.toString('base64');
request.method = 'POST';
request.body = { inputTruncated: false, action: 'read-only', encoding: 'base64', data };
const whole = JSON.stringify(event);
request.body.data = '';
const placeholder = JSON.stringify(event);
request.body.encoding = 'text';
const placeholderText = JSON.stringify(event);
request.body = { inputTruncated: false, action: 'read-only', encoding: 'base64', data };

/** Median µs per call of 9 batches of `n` calls, after a warm-up. */
function time(label, f, n = 1000) {
  for (let i = 0; i < 100; i++) f();
  const batches = [];
  for (let k = 0; k < 9; k++) {
    const start = performance.now();
    for (let i = 0; i < n; i++) f();
    batches.push(((performance.now() - start) * 1000) / n);
  }
  batches.sort((a, b) => a - b);
  console.log(`${label.padEnd(48)} ${batches[4].toFixed(1).padStart(8)} µs`);
}

console.log(`POST with a ${KIB} KiB body (${data.length} base64 characters), node ${process.version}`);
time('addon handle, body inside the JSON', () => signer.handle(whole, Date.now()));
time('addon handleDetached, base64 body', () => signer.handleDetached(placeholder, data, Date.now()));
time('addon handleDetached, the same text as a text body', () => signer.handleDetached(placeholderText, data, Date.now()));
time('addon handleDetached, empty body data', () => signer.handleDetached(placeholder, '', Date.now()));
time('node SHA-256 of the body', () => crypto.createHash('sha256').update(bytes).digest('hex'));
time('node Buffer.from(data, base64)', () => Buffer.from(data, 'base64'));
time('node JSON.stringify(event), body inside', () => JSON.stringify(event));
