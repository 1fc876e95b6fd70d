// What every browser journey shares: Chromium from the machine (never a downloaded one),
// and the checks run on every page a journey reaches: axe-core (WCAG 2.2 A and AA), no
// horizontal scrolling at the viewport's width (also with the text at 200 %), the page's weight (HTML with its stylesheets
// and scripts, at most 60 KB), and no request to another host.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const AXE = fs.readFileSync(new URL('./node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const MAX_PAGE_BYTES = 60 * 1024;

export const BASE = process.env.PEERPATH_URL;
export const PASSWORD = process.env.PEERPATH_PASSWORD;
const SHOTS = process.env.PEERPATH_SCREENSHOTS || '';

export class Journey {
  constructor(name, { javaScript = true, width = 320, height = 800 } = {}) {
    this.name = name;
    this.javaScript = javaScript;
    this.viewport = { width, height };
    this.checked = [];
    this.failures = [];
    this.sizes = new Map();
    this.offHost = [];
  }

  async start() {
    this.browser = await chromium.launch({
      executablePath: process.env.PEERPATH_CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--disable-dev-shm-usage'],
    });
    this.context = await this.browser.newContext({
      viewport: this.viewport,
      javaScriptEnabled: this.javaScript,
    });
    this.page = await this.context.newPage();
    const base = new URL(BASE);
    this.page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.host !== base.host) this.offHost.push(r.url());
    });
    this.page.on('response', async (r) => {
      try {
        const body = await r.body();
        this.sizes.set(r.url(), body.length);
      } catch { /* a redirect has no body */ }
    });
    return this.page;
  }

  fail(message) {
    this.failures.push(message);
  }

  expect(condition, message) {
    if (!condition) this.fail(message);
  }

  // The checks of one page, after it loaded. `label` names it in the report and the
  // screenshot (a screenshot is taken when PEERPATH_SCREENSHOTS names a folder).
  async check(label, { screenshot = null } = {}) {
    const page = this.page;
    await page.waitForLoadState('load');
    const url = page.url();
    const title = await page.title();
    const h1s = await page.locator('h1').count();
    this.expect(h1s === 1, `${label}: ${h1s} h1 elements (want one)`);
    this.expect(/ - peerpath$/.test(title), `${label}: title "${title}" does not name the service`);
    // Axe needs a script; pages work without one, so with JavaScript off it is skipped
    // (every page is checked with JavaScript on by the other journeys).
    if (this.javaScript) {
      await page.evaluate(AXE);
      const result = await page.evaluate(async (tags) => {
        // eslint-disable-next-line no-undef
        const r = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
      }, AXE_TAGS);
      for (const v of result) this.fail(`${label}: axe ${v.id} (${v.impact}): ${v.help} at ${v.nodes.join(', ')}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      this.expect(overflow <= 0, `${label}: scrolls sideways by ${overflow}px at ${this.viewport.width}px`);
      // Readable at 200 % text size: the same page with its text doubled still fits the width.
      const enlarged = await page.evaluate(() => {
        const root = document.documentElement;
        root.style.fontSize = '200%';
        const by = root.scrollWidth - window.innerWidth;
        // What sticks out, innermost first, so a failure says where to look.
        const out = [...document.body.querySelectorAll('*')]
          .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
          .filter((e) => ![...e.children].some((c) => c.getBoundingClientRect().right > window.innerWidth + 0.5))
          .slice(0, 3)
          .map((e) => `${e.tagName.toLowerCase()}${e.className ? `.${String(e.className).split(' ').join('.')}` : ''} "${(e.textContent || '').trim().slice(0, 30)}"`);
        root.style.fontSize = '';
        return { by, out };
      });
      this.expect(enlarged.by <= 0, `${label}: at 200 % text size scrolls sideways by ${enlarged.by}px at ${this.viewport.width}px (${enlarged.out.join('; ')})`);
      const assets = await page.evaluate(() => [
        ...[...document.querySelectorAll('link[rel=stylesheet]')].map((l) => l.href),
        ...[...document.querySelectorAll('script[src]')].map((s) => s.src),
      ]);
      let bytes = this.sizes.get(url) ?? 0;
      for (const a of assets) bytes += this.sizes.get(a) ?? 0;
      this.expect(bytes <= MAX_PAGE_BYTES, `${label}: ${bytes} bytes with its assets (at most ${MAX_PAGE_BYTES})`);
      this.checked.push({ label, path: new URL(url).pathname, bytes, violations: result.length });
    } else {
      this.checked.push({ label, path: new URL(url).pathname, bytes: this.sizes.get(url) ?? 0, violations: null });
    }
    if (screenshot && SHOTS) {
      fs.mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS, `${screenshot}.png`), fullPage: true });
    }
  }

  async goto(pathname, label, options) {
    await this.page.goto(BASE + pathname);
    await this.check(label, options);
  }

  // Reads as a person reads: the page's main text.
  async text() {
    return (await this.page.locator('main').innerText()).replace(/\s+/g, ' ');
  }

  async sees(fragment, where) {
    const text = await this.text();
    this.expect(text.includes(fragment), `${where}: expected to read "${fragment}" in: ${text.slice(0, 400)}`);
  }

  async signIn(email, label = 'sign in') {
    await this.goto('/sign-in', label, { screenshot: 'sign-in' });
    await this.page.getByLabel('Email address').fill(email);
    await this.page.getByLabel('Password').fill(PASSWORD);
    await this.page.getByRole('button', { name: 'Sign in' }).click();
    await this.page.waitForLoadState('load');
  }

  async signOut() {
    await this.page.getByRole('button', { name: 'Sign out' }).click();
    await this.page.waitForLoadState('load');
    await this.check('signed out');
    await this.sees('You have signed out.', 'after signing out');
  }

  // Presses Tab until the element is focused (as a keyboard user would), then checks that
  // the focus can be seen.
  async tabTo(locator, label, most = 40) {
    const handle = await locator.elementHandle();
    for (let i = 0; i < most; i += 1) {
      await this.page.keyboard.press('Tab');
      const there = await this.page.evaluate((el) => document.activeElement === el, handle);
      if (there) {
        const visible = await this.page.evaluate(() => {
          const s = getComputedStyle(document.activeElement);
          return (s.outlineStyle !== 'none' && s.outlineColor !== 'rgba(0, 0, 0, 0)' && s.outlineWidth !== '0px')
            || s.boxShadow !== 'none';
        });
        this.expect(visible, `${label}: the focus is not visible`);
        return;
      }
    }
    this.fail(`${label}: not reached with the Tab key in ${most} presses`);
  }

  // Presses a key that follows a link or submits a form, and waits for the next page.
  async pressToNavigate(key = 'Enter') {
    await Promise.all([
      this.page.waitForEvent('framenavigated'),
      this.page.keyboard.press(key),
    ]);
    await this.page.waitForLoadState('load');
  }

  async finish() {
    await this.browser?.close();
    this.expect(this.offHost.length === 0, `requests to other hosts: ${this.offHost.join(', ')}`);
    const report = { journey: this.name, pages: this.checked, failures: this.failures };
    process.stdout.write(`${JSON.stringify(report)}\n`);
    process.exitCode = this.failures.length ? 1 : 0;
  }
}

export async function run(journey, steps) {
  try {
    await journey.start();
    await steps(journey, journey.page);
  } catch (e) {
    journey.fail(`stopped: ${e.stack || e}`);
  }
  await journey.finish();
}
