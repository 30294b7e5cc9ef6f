// Drives the live page in headless Chromium with a fake microphone fed from a wav file, and
// prints what the page showed as JSON. Usage: node live_page.cjs URL SPEECH.wav SOURCE TARGET
// (playwright-core is found through NODE_PATH; `make testdata` installs it).
const { chromium } = require("playwright-core");

async function main() {
  const [url, wav, source, target] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--use-fake-device-for-media-stream",
      "--use-fake-ui-for-media-stream",
      `--use-file-for-fake-audio-capture=${wav}%noloop`,
      "--autoplay-policy=no-user-gesture-required",
      "--no-sandbox",
    ],
  });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(url);
    await page.selectOption("#source", source);
    await page.selectOption("#target", target);
    await page.click("#start");
    await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("Listening"), null, { timeout: 30000 });
    // The file plays once (about 10 s); captions may appear while it plays. Then stop: `end`
    // flushes the last utterance and the server closes after delivering everything.
    await page.waitForSelector(".segment .final:not(:empty)", { timeout: 20000 }).catch(() => {});
    await page.waitForTimeout(4000);
    await page.click("#stop");
    await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("Closed"), null, { timeout: 90000 });
    const finals = await page.$$eval(".segment .final", (els) => els.map((e) => e.firstChild ? e.firstChild.textContent : ""));
    const translations = await page.$$eval(".segment .translation", (els) => els.map((e) => e.firstChild ? e.firstChild.textContent : ""));
    const status = await page.textContent("#status");
    const audio = await page.evaluate(() => Number(document.body.dataset.audio || 0));
    const shownErrors = await page.$$eval(".error", (els) => els.map((e) => e.textContent));
    console.log(JSON.stringify({ finals: finals.reverse(), translations: translations.reverse(), status, audio, errors, shownErrors }));
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
