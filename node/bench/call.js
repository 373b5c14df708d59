'use strict';
// String or object? Times the two ways of passing an event to the addon and getting the outcome back:
//   string: JSON.parse(signer.handle(JSON.stringify(event), now).json)       (what index.js ships)
//   object: signer.handleObject(event, now)  (napi's serde conversion of serde_json::Value both ways)
// plus each path's conversion alone (JSON.stringify + JSON.parse; roundTripObject). Needs an addon
// built with the object-api feature: scripts/bench-node-call builds one and runs this.
// Usage: node node/bench/call.js ADDON.node [EVENT.json...]
const fs = require('node:fs');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const [addonPath, ...eventFiles] = process.argv.slice(2);
const addon = require(path.resolve(addonPath));
const signer = new addon.Signer('AKIDEXAMPLE', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  '6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267', null);
const now = Date.parse('2015-08-30T12:36:00Z');
const root = path.resolve(__dirname, '../..');
const files = eventFiles.length ? eventFiles
  : ['origin-request.json', 'key-reserved-chars.json'].map((f) => path.join(root, 'vectors/events', f));

const ITERATIONS = 20000;
const ROUNDS = 7;

/** Median over rounds of the mean time per call, in microseconds. */
function time(fn) {
  for (let i = 0; i < 2000; i++) fn();
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now();
    for (let i = 0; i < ITERATIONS; i++) fn();
    rounds.push(((performance.now() - start) * 1000) / ITERATIONS);
  }
  rounds.sort((a, b) => a - b);
  return rounds[ROUNDS >> 1];
}

for (const file of files) {
  const event = JSON.parse(fs.readFileSync(file, 'utf8'));
  const viaString = JSON.parse(signer.handle(JSON.stringify(event), now).json);
  const viaObject = signer.handleObject(event, now);
  if (JSON.stringify(viaString) !== JSON.stringify(viaObject)) throw new Error(`${file}: the two paths differ`);
  const results = {
    'string: stringify + handle + parse': time(() => JSON.parse(signer.handle(JSON.stringify(event), now).json)),
    'object: handleObject (napi serde)': time(() => signer.handleObject(event, now)),
    'string conversion alone (stringify + parse)': time(() => JSON.parse(JSON.stringify(event))),
    'object conversion alone (roundTripObject)': time(() => addon.roundTripObject(event)),
  };
  console.log(`${path.basename(file)} (${JSON.stringify(event).length} bytes of JSON), µs per call, median of ${ROUNDS} rounds of ${ITERATIONS}:`);
  for (const [name, us] of Object.entries(results)) console.log(`  ${name.padEnd(46)} ${us.toFixed(2)}`);
}
