// A sample Node.js function with no dependencies. See samples/README.md.
'use strict';

const http = require('node:http');

const port = readInt('PORT', 0, 65535) ?? 8080;
const initDelayMs = readInt('INIT_DELAY_MS', 0, 2 ** 31 - 1) ?? 0;
const traceHeaders = ['traceparent', 'tracestate'];

const routes = {
  '/': () => [200, 'hello from node'],
  '/healthz': () => [200, 'ok'],
  '/throw': () => {
    throw new Error('sample failure: node-hello was asked to throw');
  },
  '/call': async (url, req) => {
    const raw = url.searchParams.get('url') ?? '';
    const target = URL.canParse(raw) ? new URL(raw) : null;
    if (!target || (target.protocol !== 'http:' && target.protocol !== 'https:')) {
      return [400, `not an absolute http(s) URL: ${raw}`];
    }
    // Pass on exactly the trace context that came in; add none of our own.
    const headers = {};
    for (const name of traceHeaders) {
      if (req.headers[name] !== undefined) headers[name] = req.headers[name];
    }
    try {
      const response = await fetch(target, { headers });
      return [200, `called ${raw}: ${response.status} ${await response.text()}`];
    } catch (err) {
      return [502, `call to ${raw} failed: ${err.cause?.message ?? err.message}`];
    }
  },
};

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname !== '/healthz') {
    const traceparent = req.headers.traceparent ? ` traceparent=${req.headers.traceparent}` : '';
    console.log(`node-hello: ${req.method} ${req.url}${traceparent}`);
  }

  const route = routes[url.pathname];
  let status = 404;
  let body = 'not found';
  try {
    if (route && req.method === 'GET') [status, body] = await route(url, req);
    else if (route) [status, body] = [405, 'method not allowed'];
  } catch (err) {
    console.error(`node-hello: unhandled error on ${req.method} ${req.url}\n${err.stack}`);
    [status, body] = [500, ''];
  }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
});

function readInt(name, min, max) {
  const text = process.env[name];
  if (!text) return undefined;
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (value >= min && value <= max) return value;
  console.error(`${name}=${text} is not a whole number from ${min} to ${max}`);
  process.exit(2);
}

function listen() {
  server.listen(port, '127.0.0.1', () => console.log(`node-hello: listening on http://127.0.0.1:${server.address().port}`));
}

// Exit cleanly when the sidecar (or Ctrl+C) stops us.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)).closeAllConnections());

if (initDelayMs > 0) {
  // Simulated slow init: the port is not open until this has passed.
  console.log(`node-hello: init, waiting ${initDelayMs} ms before listening`);
  setTimeout(listen, initDelayMs);
} else {
  listen();
}
