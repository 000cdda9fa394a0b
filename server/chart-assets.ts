/**
 * The chart page's files, read once from `server/assets/` (at the first request for one) and
 * served from memory. Everything the page needs is here: no CDN, no network beyond this server.
 */
import { readFileSync } from 'node:fs';

export interface Asset {
  contentType: string;
  body: Buffer;
}

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'chart.js': 'text/javascript; charset=utf-8',
  'chart.css': 'text/css; charset=utf-8',
};

export function loadChartAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [name, contentType] of Object.entries(FILES)) {
    assets.set(name, { contentType, body: readFileSync(new URL(`./assets/${name}`, import.meta.url)) });
  }
  return assets;
}
