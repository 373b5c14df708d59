'use strict';
// Times an addon build: loading it (dlopen, as require does) and one `handle` call on a shipped
// event (median of rounds). Used to choose the release opt-level (README, Deploying).
// Usage: node node/bench/handle.js ADDON.node
const path = require('node:path');
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');

const started = performance.now();
const addon = { exports: {} };
process.dlopen(addon, path.resolve(process.argv[2])); // what require does for a .node file
const { Signer } = addon.exports;
const loadMs = performance.now() - started;
const signer = new Signer('AKIDEXAMPLE', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', 'token', null);
const json = fs.readFileSync(path.join(__dirname, '../../vectors/events/origin-request.json'), 'utf8');
const event = JSON.stringify(JSON.parse(json));
const now = Date.parse('2015-08-30T12:36:00Z');
const firstStart = performance.now();
signer.handle(event, now);
const firstUs = (performance.now() - firstStart) * 1000;
const rounds = [];
for (let r = 0; r < 9; r++) {
  const start = performance.now();
  for (let i = 0; i < 20000; i++) signer.handle(event, now);
  rounds.push(((performance.now() - start) * 1000) / 20000);
}
rounds.sort((a, b) => a - b);
console.log(`${process.argv[2]}: ${fs.statSync(process.argv[2]).size} bytes; require ${loadMs.toFixed(2)} ms; ` +
  `first handle ${firstUs.toFixed(0)} µs; handle ${rounds[4].toFixed(2)} µs (median of 9 x 20000)`);
