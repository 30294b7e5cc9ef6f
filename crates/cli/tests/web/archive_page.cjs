// Opens the archive page at a recording (`/archive#id=…&t=…&q=…`) in headless Chromium and prints
// as JSON what it showed: the written tokens with their times, the marked ones, the raw reading
// after ticking "raw reading", and where the player stood after a click on a written token.
// Usage: node archive_page.cjs URL TOKEN_TO_CLICK (playwright-core via NODE_PATH).
const { chromium } = require("playwright-core");

async function main() {
  const [url, click] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--autoplay-policy=no-user-gesture-required", "--no-sandbox"],
  });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(url);
    await page.waitForSelector("#segments .w", { timeout: 20000 });
    const tokens = () => page.$$eval("#segments .w", (els) => els.map((e) => ({ text: e.textContent, start: +e.dataset.start, end: +e.dataset.end })));
    const written = await tokens();
    const marked = await page.$$eval("#segments mark", (els) => els.map((e) => e.textContent));
    const listed = await page.$$eval("nav a", (els) => els.map((e) => e.textContent));
    const rawShown = await page.isVisible("#rawbox");
    await page.check("#raw");
    const raw = await tokens();
    await page.uncheck("#raw");
    const target = page.locator("#segments .w", { hasText: click }).first();
    const clickedStart = Number(await target.getAttribute("data-start"));
    await target.click();
    await page.waitForFunction(() => !document.getElementById("player").paused, null, { timeout: 10000 });
    const playerAt = await page.evaluate(() => document.getElementById("player").currentTime);
    console.log(JSON.stringify({ written, marked, raw, listed, rawShown, clickedStart, playerAt, errors }));
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
