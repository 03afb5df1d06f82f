// Test helper: Debian's headless chromium driven by playwright-core (never a downloaded browser),
// with a fresh user-data-dir per launch, removed again by close(). The flags keep it from
// reaching out to the network on its own (updates, sync, QUIC probes) and work as root.
// Does not: trust any CA; callers pass ignoreHTTPSErrors when they test a page, not TLS.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { CHROMIUM } from './require-dep.js';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(opts: { ignoreHTTPSErrors?: boolean; viewport?: { width: number; height: number } } = {}): Promise<Browser> {
  const dir = await mkdtemp(join(tmpdir(), 'trireme-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000,
    ignoreHTTPSErrors: opts.ignoreHTTPSErrors ?? false, viewport: opts.viewport ?? { width: 1280, height: 900 },
  });
  return {
    context,
    async close() {
      try {
        await context.close();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
