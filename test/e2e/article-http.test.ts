/**
 * The seed article's HTTP client, run unmodified through the `picow-sim` command with the
 * reference firmware: its hard-coded server address is mapped to a loopback server, and what it
 * prints is compared with the article's own listing. The same script runs against our echo server
 * and against Python's standard `http.server` with a handler that has the article's semantics,
 * and an HTTPS request goes through the firmware's own TLS to a local TLS server.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, freePort, ROOT, startCli, type Run } from '../helpers/cli.ts';
import { e2eFirmware } from '../helpers/firmware.ts';

const fw = e2eFirmware();
const WIFI_SETUP = join(ROOT, 'firmware/examples/wifi_setup.py');
/** Wall-clock limits: boards share two cores with the rest of the suite. */
const RUN_SECONDS = 240;
const CASE_MS = (RUN_SECONDS + 30) * 1000;

/** The article's listing of the client's output (third page), with the header dict on one line. */
const ARTICLE_LISTING = [
  "b'Hello, world!'",
  "b'This is a POST request. Received: Hello World'",
  "b'This is a PUT request. Received: Hello World'",
  "b'This is a PATCH request. Received: Hello World'",
  "b''",
  "{'Server': 'BaseHTTP/0.6 Python/3.9.2', 'Date': 'Thu, 17 Nov 2022 18:20:42 GMT'}",
  "b'This is a DELETE request. Received: Hello World'",
];

/** The article's client as printed there, after the user's own Wi-Fi set-up. */
const USER_SSID = 'MyHomeNet';
const USER_KEY = 'correct horse battery';
const ARTICLE_SCRIPT = `from wifi_setup import setup
setup("GB", "${USER_SSID}", "${USER_KEY}")

import urequests
url="http://192.168.253.45:8080"
r = urequests.get(url)
print(r.content)
r.close()
buf= b'Hello World'
r=urequests.post(url,data=buf)
print(r.content)
r.close()
r=urequests.put(url,data=buf)
print(r.content)
r.close()
r=urequests.patch(url,data=buf)
print(r.content)
r.close()
r=urequests.head(url)
print(r.content)
print(r.headers)
r.close()
r=urequests.delete(url,data=buf)
print(r.content)
r.close()
`;

/** The article's custom server, as a file for python3 (its handler, bound to loopback, port 0). */
const PYTHON_SERVER = `import sys
from http.server import HTTPServer, BaseHTTPRequestHandler
from io import BytesIO

class SimpleHTTPRequestHandler(BaseHTTPRequestHandler):
    def sendResponse(self, cmd):
        content_length = int(self.headers['Content-Length'])
        body = self.rfile.read(content_length)
        self.send_response(200)
        self.end_headers()
        response = BytesIO()
        response.write(b'This is a ' + bytes(cmd, 'utf-8') + b' request. ')
        response.write(b'Received: ')
        response.write(body)
        self.wfile.write(response.getvalue())

    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'Hello, world!')

    def do_HEAD(self):
        self.send_response(200)
        self.end_headers()

    def do_POST(self):
        self.sendResponse("POST")

    def do_PUT(self):
        self.sendResponse("PUT")

    def do_DELETE(self):
        self.sendResponse("DELETE")

    def do_PATCH(self):
        self.sendResponse("PATCH")

    def log_message(self, format, *args):
        sys.stderr.write("%s %s\\n" % (self.command, self.path))
        sys.stderr.flush()

httpd = HTTPServer(('127.0.0.1', 0), SimpleHTTPRequestHandler)
print(httpd.server_address[1], flush=True)
httpd.serve_forever()
`;


const children = new Set<ChildProcess>();

/** `picow-sim ARGS`; the embedded collector keeps its readings under XDG_DATA_HOME: a folder of this run. */
function cli(args: string[], limitMs = CASE_MS - 10_000): Promise<Run> {
  const child = startCli(args, { env: { XDG_DATA_HOME: join(dir, 'data') } });
  children.add(child);
  return collect(child, `picow-sim ${args.join(' ')}`, limitMs).finally(() => children.delete(child));
}

/** Printed lines (the board's console uses CRLF). */
function lines(stdout: string): string[] {
  expect(stdout.endsWith('\r\n')).toBe(true);
  return stdout.slice(0, -2).split('\r\n');
}

const HEADERS_LINE = /^\{'Server': '([^']+)', 'Date': '([^']+)'\}$/;
const HTTP_DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/**
 * The output must be the article's listing line for line; in the HEAD line only the values of
 * Server and Date may differ (the Date must be now, give or take the run).
 */
function expectArticleListing(stdout: string, startedAt: number): { server: string; date: string } {
  const got = lines(stdout);
  expect(got).toHaveLength(ARTICLE_LISTING.length);
  const m = HEADERS_LINE.exec(got[5]!);
  expect(m, `HEAD's r.headers should hold exactly Server and Date, got ${got[5]}`).not.toBeNull();
  const [, server, date] = m!;
  expect(date).toMatch(HTTP_DATE);
  const when = Date.parse(date!);
  expect(when).toBeGreaterThanOrEqual(Math.floor(startedAt / 1000) * 1000);
  expect(when).toBeLessThanOrEqual(Date.now());
  const normalised = [...got];
  normalised[5] = ARTICLE_LISTING[5]!;
  expect(normalised).toEqual(ARTICLE_LISTING);
  return { server: server!, date: date! };
}

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'picow-article-'));
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/**
 * The article's script, unmodified, with the user's Wi-Fi and its hard-coded server address
 * mapped to 127.0.0.1:`port`; checks a clean run and returns the listing's Server/Date values.
 */
async function runArticleScript(name: string, port: number, serverArgs: string[]): Promise<{ server: string; date: string }> {
  const script = file(name, ARTICLE_SCRIPT);
  const t0 = Date.now();
  const r = await cli([
    script,
    '--file',
    WIFI_SETUP,
    '--ap',
    `${USER_SSID}:${USER_KEY}`,
    '--map',
    `192.168.253.45:8080=127.0.0.1:${port}`,
    ...serverArgs,
    '--timeout',
    String(RUN_SECONDS),
    '--quiet',
  ]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return expectArticleListing(r.stdout, t0);
}

describe.skipIf(!fw)("the article's HTTP client, unmodified, through picow-sim", () => {
  it(
    "prints the article's listing against the embedded echo server behind --map 192.168.253.45:8080",
    async () => {
      const port = await freePort();
      const { server } = await runArticleScript('article_client.py', port, ['--server-port', String(port)]);
      expect(server).toMatch(/^picow-sim\//);
    },
    CASE_MS,
  );

  it(
    "prints the same against Python's http.server with the article's handler",
    async () => {
      const serverFile = file('article_server.py', PYTHON_SERVER);
      const py = spawn('python3', [serverFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(py);
      let pyLog = '';
      py.stderr!.on('data', (b: Buffer) => (pyLog += b.toString()));
      try {
        const port = await new Promise<number>((res, rej) => {
          let out = '';
          const t = setTimeout(() => rej(new Error(`python3 http.server did not start: ${pyLog}`)), 20_000);
          py.stdout!.on('data', (b: Buffer) => {
            out += b.toString();
            const m = /^(\d+)\n/.exec(out);
            if (m) {
              clearTimeout(t);
              res(Number(m[1]));
            }
          });
          py.on('exit', (code) => rej(new Error(`python3 exited with ${code}: ${pyLog}`)));
        });
        const { server } = await runArticleScript('article_client_py.py', port, ['--no-server']);
        expect(server).toMatch(/^BaseHTTP\/\d+\.\d+ Python\/3\.\d+\.\d+$/);
        // Every request reached the Python server, one each, in the article's order.
        expect(pyLog.trim().split('\n')).toEqual(['GET /', 'POST /', 'PUT /', 'PATCH /', 'HEAD /', 'DELETE /']);
      } finally {
        if (py.exitCode === null && py.pid) process.kill(py.pid, 'SIGKILL');
        children.delete(py);
      }
    },
    CASE_MS,
  );

  it(
    'fetches https:// through a mapping from a local TLS server, the TLS running in the firmware',
    async () => {
      // A throw-away self-signed certificate for this run only.
      const key = join(dir, 'tls-key.pem');
      const cert = join(dir, 'tls-cert.pem');
      const gen = spawnSync(
        'openssl',
        ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=secure.example'],
        { encoding: 'utf8' },
      );
      expect(gen.status, gen.stderr).toBe(0);
      const token = randomBytes(8).toString('hex');
      const seen: { servername: string | false; protocol: string | null; path: string }[] = [];
      const tls: HttpsServer = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
        // `servername` (the SNI the client sent) is set on server-side TLS sockets.
        const s = req.socket as TLSSocket & { servername?: string | false };
        seen.push({ servername: s.servername ?? false, protocol: s.getProtocol(), path: req.url ?? '' });
        res.end(`secret ${token}`);
      });
      await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
      const port = (tls.address() as AddressInfo).port;
      try {
        const script = file(
          'https_client.py',
          [
            'from wifi_setup import setup',
            `setup("GB", "${USER_SSID}", "${USER_KEY}")`,
            'import urequests',
            'r = urequests.get("https://secure.example/hello")',
            'print(r.status_code)',
            'print(r.content)',
            'r.close()',
          ].join('\n') + '\n',
        );
        const r = await cli([
          script,
          '--file',
          WIFI_SETUP,
          '--ap',
          `${USER_SSID}:${USER_KEY}`,
          '--host',
          'secure.example=192.168.253.46',
          '--map',
          `192.168.253.46:443=127.0.0.1:${port}`,
          '--no-server',
          '--timeout',
          String(RUN_SECONDS),
          '--quiet',
        ]);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(lines(r.stdout)).toEqual(['200', `b'secret ${token}'`]);
        // The request arrived inside TLS, with the board's SNI.
        expect(seen).toHaveLength(1);
        expect(seen[0]!.path).toBe('/hello');
        expect(seen[0]!.servername).toBe('secure.example');
        expect(seen[0]!.protocol).toMatch(/^TLSv1\.[23]$/);
      } finally {
        tls.closeAllConnections();
        await new Promise<void>((r) => tls.close(() => r()));
      }
    },
    CASE_MS,
  );
});
