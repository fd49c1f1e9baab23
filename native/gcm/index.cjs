'use strict';
// The compiled addon; loading fails (and hanul falls back to node:crypto) when it was not built.
module.exports = require('./build/Release/hanul_gcm.node');
