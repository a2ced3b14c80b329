// Loads the addon that `npm install` (scripts/build.js) built from source.
// Its types are native.d.ts, generated from the Rust definitions.
'use strict';

module.exports = require('./spread-toolkit.node');
