// Test harness: starts the `switchboard` binary on free ports with the test
// config, launches Debian's headless Chromium through playwright-core (never a
// downloaded browser), and cleans both up.
import { spawn } from 'node:child_process';
import fs, { existsSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '..', '..');

/** The roster passwords of test-config.toml (and the demo config): "<id>-demo". */
export const demoPassword = (id) => `${id}-demo`;

export function serverBinary() {
  if (process.env.WEB_TEST_SERVER_BIN) return process.env.WEB_TEST_SERVER_BIN;
  const target = process.env.CARGO_TARGET_DIR || path.join(repo, 'target');
  // The newest of the release and debug builds (a stale one may linger).
  const found = ['release', 'debug']
    .map((profile) => path.join(target, profile, 'switchboard'))
    .filter((candidate) => existsSync(candidate))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (found.length) return found[0];
  throw new Error('no switchboard binary: run `cargo build -p switchboard-server` (or set WEB_TEST_SERVER_BIN)');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts the server; resolves once /readyz answers. `port` and `adminPort`
 * fix the listeners (default: free ports); `dataDir` is its storage.data_dir
 * (default: a fresh temporary one, removed by `stop()`).
 *
 * `kill()` is a crash: SIGKILL, wait for the exit, keep the data_dir.
 * `restart()` then starts a new server on the same data_dir and ports (it
 * takes over removing a temporary data_dir on its `stop()`).
 */
export async function startServer({ config = path.join(here, 'test-config.toml'), env = {}, dataDir, port, adminPort, ownDir: givenOwnDir } = {}) {
  port = port || await freePort();
  adminPort = adminPort || await freePort();
  // Its own data_dir (the input log and snapshots), removed on stop unless the caller brought one.
  let ownDir = givenOwnDir || (dataDir ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-web-')));
  const dir = dataDir || ownDir;
  const child = spawn(serverBinary(), ['--config', config], {
    cwd: repo,
    env: {
      // The server reads every SWITCHBOARD_* variable as a config key: pass none but ours.
      ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('SWITCHBOARD_'))),
      SWITCHBOARD_LISTEN: `127.0.0.1:${port}`,
      SWITCHBOARD_ADMIN_LISTEN: `127.0.0.1:${adminPort}`,
      SWITCHBOARD_STORAGE__DATA_DIR: dir,
      RUST_LOG: process.env.RUST_LOG || 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20000;
  for (;;) {
    if (child.exitCode != null || child.signalCode != null) {
      throw new Error(`switchboard exited (${child.exitCode ?? child.signalCode}):\n${output}`);
    }
    try {
      const response = await fetch(`${base}/readyz`);
      if (response.ok) break;
    } catch (_) { /* not listening yet */ }
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`switchboard did not become ready:\n${output}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  const running = () => child.exitCode == null && child.signalCode == null;
  return {
    base,
    port,
    adminPort,
    dataDir: dir,
    output: () => output,
    /** A crash: SIGKILL, and wait until the process is gone. The data_dir stays. */
    async kill() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
    /** A new server on the same data_dir and ports (after `kill()` or `stop()`-less crashes). */
    async restart(options = {}) {
      if (running()) throw new Error('restart: the server still runs (kill() it first)');
      const handOver = ownDir;
      ownDir = null; // the new server removes it
      return startServer({ config, env, ...options, dataDir: dir, port, adminPort, ownDir: handOver });
    },
    async stop() {
      if (running()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      if (ownDir) fs.rmSync(ownDir, { recursive: true, force: true });
    },
  };
}

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/**
 * Launches headless Chromium. playwright-core gives every launch a fresh
 * temporary user-data-dir (and removes it on close); each `person()` is a
 * separate browser context with its own storage, like another person.
 */
export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const person = async (options = {}) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
    if (process.env.WEB_FROM_DISK) await serveFromDisk(context);
    return context;
  };
  return {
    browser,
    person,
    close: () => browser.close().catch(() => {}),
  };
}

// While editing web/ (WEB_FROM_DISK=1): answer asset requests from the files
// on disk instead of the copies embedded in the binary, to skip a rebuild.
// The real runs (run.sh, CI) always test the embedded assets. Only scripts and
// styles: a document answered by the test itself would lose its loopback
// address space, and Chromium's local-network-access checks then block its
// WebSockets to 127.0.0.1.
// Every script and style in web/, by the route the server gives it (`/name`).
const ASSET_FILES = Object.fromEntries(fs.readdirSync(path.join(repo, 'web'))
  .filter((file) => /\.(js|css)$/.test(file))
  .map((file) => [`/${file}`, file]));

async function serveFromDisk(context) {
  await context.route((url) => url.pathname in ASSET_FILES, async (route) => {
    const file = ASSET_FILES[new URL(route.request().url()).pathname];
    const response = await route.fetch();
    await route.fulfill({ response, body: readFileSync(path.join(repo, 'web', file), 'utf8') });
  });
}

/** Collects page errors so a test can assert there were none. */
export function watchErrors(page, into, expected = []) {
  page.on('pageerror', (error) => into.push(`${page.url()}: ${error.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error' || expected.some((pattern) => pattern.test(msg.text()))) return;
    into.push(`${page.url()}: console: ${msg.text()}`);
  });
  return into;
}

/**
 * A TCP proxy in front of the server, to drop the network under a page:
 * `cut()` kills every connection through it and refuses new ones until
 * `restore()`. (No netem or toxiproxy here: faults come from the test.)
 */
export async function startProxy(targetPort) {
  const sockets = new Set();
  const pairs = new Set();
  let down = false;
  const server = net.createServer((client) => {
    if (down) { client.destroy(); return; }
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    client.pipe(upstream);
    upstream.pipe(client);
    pairs.add([client, upstream]);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    base: `http://127.0.0.1:${port}`,
    cut() { down = true; for (const socket of sockets) socket.destroy(); },
    restore() { down = false; },
    /** Existing connections go silent without closing (new ones still pass). */
    freeze() {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream); upstream.unpipe(client);
        client.pause(); upstream.pause();
      }
      pairs.clear();
    },
    close: () => new Promise((resolve) => { for (const socket of sockets) socket.destroy(); server.close(resolve); }),
  };
}
