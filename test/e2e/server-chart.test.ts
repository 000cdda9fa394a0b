/**
 * The collector's chart page in a real browser: Debian's Chromium driven by playwright-core.
 * Readings posted while the page is open must appear as points without a reload.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostServer } from '../../server/host-server.ts';
import { fixedRequest, rawRequest } from '../unit/server-raw-client.ts';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.log(`server-chart: skipped, ${CHROMIUM} not found (Debian: apt-get install chromium)`);
}

describe.skipIf(!haveChromium)('temperature chart page in headless Chromium', () => {
  let browser: Browser;
  let server: HostServer;

  beforeAll(async () => {
    server = new HostServer({ port: 0, db: ':memory:' });
    await server.start();
    // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function post(celsius: string, sensor: string): Promise<void> {
    const r = await rawRequest(server.port, fixedRequest('PUT', `/temperature?sensor=${sensor}`, celsius));
    expect(r.status).toBe(201);
  }

  it('shows stored readings and adds new ones live', async () => {
    await post('20.5', 'desk');
    await post('21.0', 'desk');

    const page = await browser.newPage();
    const requested: string[] = [];
    page.on('request', (req) => requested.push(req.url()));
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${server.url}/temperature/`);
    await page.waitForFunction(() => document.querySelectorAll('#chart circle.point').length === 2, null, { timeout: 15_000 });

    // The page is open and connected: these arrive through the event stream only.
    await page.waitForFunction(() => /2 readings/.test(document.getElementById('status')?.textContent ?? ''), null, { timeout: 15_000 });
    await post('22.25', 'desk');
    await post('-3.5', 'garden');
    await post('23', 'desk');
    await page.waitForFunction(() => document.querySelectorAll('#chart circle.point').length === 5, null, { timeout: 15_000 });

    const points = await page.$$eval('#chart circle.point', (cs) =>
      cs.map((c) => ({
        celsius: Number(c.getAttribute('data-celsius')),
        cx: Number(c.getAttribute('cx')),
        cy: Number(c.getAttribute('cy')),
      })),
    );
    expect(points.map((p) => p.celsius).sort((a, b) => a - b)).toEqual([-3.5, 20.5, 21, 22.25, 23]);
    // Warmer is higher on the chart (smaller y), and every point is inside the plot.
    const y = (c: number): number => points.find((p) => p.celsius === c)?.cy as number;
    expect(y(23)).toBeLessThan(y(20.5));
    expect(y(-3.5)).toBeGreaterThan(y(20.5));
    for (const p of points) {
      expect(p.cx).toBeGreaterThanOrEqual(0);
      expect(p.cx).toBeLessThanOrEqual(800);
      expect(p.cy).toBeGreaterThanOrEqual(0);
      expect(p.cy).toBeLessThanOrEqual(400);
    }
    expect(await page.locator('#legend li').allTextContents()).toEqual(['desk (4)', 'garden (1)']);
    expect(await page.locator('#status').textContent()).toMatch(/^5 readings, latest 23 °C/);

    expect(errors).toEqual([]);
    // Everything the page loaded came from this server: no CDN.
    expect(requested.length).toBeGreaterThan(0);
    for (const url of requested) expect(url.startsWith(server.url + '/')).toBe(true);
    await page.close();
  });

  it('filters the chart by ?sensor=', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/temperature/?sensor=garden`);
    await page.waitForFunction(() => document.querySelectorAll('#chart circle.point').length === 1, null, { timeout: 15_000 });
    await page.waitForFunction(() => /1 reading/.test(document.getElementById('status')?.textContent ?? ''), null, { timeout: 15_000 });
    await post('30', 'desk');
    await post('-4', 'garden');
    await page.waitForFunction(() => document.querySelectorAll('#chart circle.point').length === 2, null, { timeout: 15_000 });
    const celsius = await page.$$eval('#chart circle.point', (cs) => cs.map((c) => Number(c.getAttribute('data-celsius'))));
    expect(celsius).toEqual([-3.5, -4]);
    await page.close();
  });
});
