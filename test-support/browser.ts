import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium, headless, quiet: nothing is downloaded, nothing phones home. */
export const CHROMIUM = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
};

/** `extraArgs`: more Chromium switches, e.g. `--host-resolver-rules=MAP portal.test 127.0.0.1` to load a page from a name that is not "localhost". */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ ...CHROMIUM, args: [...CHROMIUM.args, ...extraArgs] });
}

/** The same, with WebGL on the CPU (SwiftShader), for pages that draw MapLibre maps. */
export function launchChromiumWithWebGL(): Promise<Browser> {
  return chromium.launch({ ...CHROMIUM, args: [...CHROMIUM.args, '--use-angle=swiftshader', '--enable-unsafe-swiftshader'] });
}

export type Handler = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

/** A tiny web server standing in for a host platform (a property-management portal). */
export async function serveHost(routes: Record<string, Handler>): Promise<{ url: string; origin: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const route = routes[new URL(request.url ?? '/', 'http://x').pathname];
    if (!route) {
      response.writeHead(404).end();
      return;
    }
    Promise.resolve(route(request, response)).catch((error: unknown) => response.writeHead(500).end(String(error)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/`,
    origin,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export const send = (type: string, body: string | Buffer) => (_: IncomingMessage, response: ServerResponse) => {
  response.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
};

/**
 * Collects Content-Security-Policy violations: a script (allowed by the page's CSP, served from
 * its own origin) records them, and the test reads them back.
 */
export const CSP_RECORDER = `window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));`;

/** The page's console messages about its Content-Security-Policy, collected from now on (for pages without the recorder script). */
export function cspComplaints(page: Page): string[] {
  const complaints: string[] = [];
  page.on('console', (message) => {
    if (/Content.Security.Policy/i.test(message.text())) complaints.push(message.text());
  });
  return complaints;
}

export function violations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __violations: string[] }).__violations);
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's WCAG 2.1 A/AA rules over the page as it stands; run through the debugger, so the page's CSP stays strict. */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    const axe = (
      window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }
    ).axe;
    return (await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })).violations;
  });
  return found.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
