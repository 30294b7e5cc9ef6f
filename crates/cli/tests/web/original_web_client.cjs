// Drives the original system's own test client (kizuna-ai-lab/sokuji-bridge
// examples/web-client.html, unmodified, opened from a file) against a Sokuji server in headless
// Chromium: health, a translation, and live captions from a fake microphone playing a wav file.
// Prints what the page showed as JSON.
// Usage: node original_web_client.cjs WEB_CLIENT.html API_URL SPEECH.wav SECONDS SOURCE TARGET
const { chromium } = require("playwright-core");

async function main() {
  const [client, api, wav, seconds, source, target] = process.argv.slice(2);
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
    const dialogs = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("dialog", (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
    await page.goto("file://" + client);
    await page.fill("#apiUrl", api);

    await page.click("#healthCheckBtn");
    await page.waitForFunction(() => !document.getElementById("healthCheckBtn").disabled, null, { timeout: 30000 });
    const health = await page.textContent("#overallHealth");
    const services = await page.textContent("#serviceStatus");

    await page.click("button.tab >> text=Translation");
    await page.fill("#translationText", "I want to buy a new car.");
    await page.selectOption("#translationSourceLang", "en");
    await page.selectOption("#translationTargetLang", "ja");
    await page.click("#translationBtn");
    await page.waitForSelector("#translationResult .result-section", { timeout: 60000 });
    const translation = await page.textContent("#translationResult");

    await page.click("button.tab >> text=WebSocket");
    await page.selectOption("#wsSourceLang", source);
    await page.selectOption("#wsTargetLang", target);
    await page.click("#wsConnectBtn");
    await page.waitForTimeout((Number(seconds) + 6) * 1000);
    const captions = await page.textContent("#wsTranscriptionText");
    const liveTranslation = await page.textContent("#wsTranslationText");
    const translations = Number(await page.textContent("#wsTranslationCount"));
    const finals = Number(await page.textContent("#wsTranscriptionCount"));
    await page.click("#wsConnectBtn");
    console.log(JSON.stringify({ health, services, translation, captions, liveTranslation, translations, finals, errors, dialogs }));
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
