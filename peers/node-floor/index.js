// The floor of the Node.js runtime in the cold-start benchmark: a handler that does nothing but
// return the event, run by the same loop as the Node.js signers (peers/node-runtime/loop.js).
'use strict';

exports.handler = async (event) => event;
