// A real browser in a user's place: Debian's Chromium, headless, driven by playwright-core (no
// browser download: the executable is the system's). Each call starts a browser of its own;
// Playwright gives it a fresh --user-data-dir and removes it on close().
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

// No sandbox (tests run as root), nothing fetched from the network behind the test's back, and
// shared memory in /tmp (a container's /dev/shm may be too small for Chromium).
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

// Resolves a Playwright Browser: browser.newPage() opens a page with cookies of its own.
export function headlessChromium() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 60000 });
}
