// A function that records its own cold-start moments, for the sidecar's cold-start timing tests.
// GET any path: {"pid", "started", "listening", "majorFaults"}, the two moments in milliseconds since the Unix epoch.
'use strict';

const { performance } = require('node:perf_hooks');
const fs = require('node:fs');
const http = require('node:http');

// When did this process start? Two upper bounds on it, the tighter one wins:
// - performance.timeOrigin, which node takes as it initialises, before any JavaScript runs (measured here:
//   about 2 ms after the exec on a quiet machine, more when the scheduler holds node back);
// - now minus the time this thread has spent running or waiting to run since the fork (/proc/self/schedstat,
//   in nanoseconds): immune to the scheduler, later only by the time node spent blocked (file reads).
const [running, waiting] = fs.readFileSync('/proc/self/schedstat', 'utf8').split(' ').map(Number);
const started = Math.min(performance.timeOrigin, performance.timeOrigin + performance.now() - (running + waiting) / 1e6);
// Major page faults so far (/proc/self/stat, field 12): node's binary read from disk rather than the page cache.
// That stalls node before either bound is taken, so the start it records is late by the time it waited.
const stat = fs.readFileSync('/proc/self/stat', 'utf8');
const majorFaults = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[9]);
const port = Number(process.env.PORT);
const initDelayMs = Number(process.env.INIT_DELAY_MS ?? '0');
let listening;

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ pid: process.pid, started, listening, majorFaults }));
});

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)).closeAllConnections());

// A known init delay, then listen. Without a host, listen() binds and listens before it returns (no address
// lookup first), so the moment right after the call is the moment the port began to accept.
setTimeout(() => {
  server.listen(port);
  listening = performance.timeOrigin + performance.now();
  if (!server.listening) throw new Error('listen() did not listen synchronously: the recorded moment would be early');
}, initDelayMs);
