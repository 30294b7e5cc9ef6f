// Records a fake microphone (a wav file) with headless Chromium's own MediaRecorder
// (audio/webm;codecs=opus), streams the pieces to the live socket as they come, then uploads the
// whole recording to the OpenAI transcription endpoint; prints what came back as JSON.
// Usage: node media_recorder.cjs URL SPEECH.wav SECONDS LANGUAGE (playwright-core via NODE_PATH).
const { chromium } = require("playwright-core");

async function main() {
  const [url, wav, seconds, language] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--use-fake-device-for-media-stream",
      "--use-fake-ui-for-media-stream",
      `--use-file-for-fake-audio-capture=${wav}%noloop`,
      "--no-sandbox",
    ],
  });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(url);
    const result = await page.evaluate(async ({ seconds, language }) => {
      const wsUrl = location.origin.replace(/^http/, "ws") + "/api/v1/ws/asr";
      const ws = new WebSocket(wsUrl);
      const messages = [];
      const closed = new Promise((resolve) => { ws.onclose = (e) => resolve(e.code); });
      ws.onmessage = (e) => messages.push(JSON.parse(e.data));
      await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
      ws.send(JSON.stringify({ type: "config", language, format: "webm" }));
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const recorder = new MediaRecorder(stream, { mimeType: "audio/webm;codecs=opus" });
      const pieces = [];
      let sending = Promise.resolve();
      recorder.ondataavailable = (e) => {
        pieces.push(e.data);
        sending = sending.then(async () => ws.send(await e.data.arrayBuffer()));
      };
      const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
      recorder.start(250);
      await new Promise((r) => setTimeout(r, (Number(seconds) + 1.5) * 1000));
      recorder.stop();
      await stopped;
      await sending;
      ws.send(JSON.stringify({ type: "end" }));
      const closeCode = await closed;
      const form = new FormData();
      form.append("file", new Blob(pieces, { type: "audio/webm" }), "recording.webm");
      form.append("model", "whisper-1");
      form.append("language", language);
      const res = await fetch("/v1/audio/transcriptions", { method: "POST", body: form });
      const upload = await res.json();
      return { mime: recorder.mimeType, pieces: pieces.length, messages, closeCode, uploadStatus: res.status, upload };
    }, { seconds, language });
    console.log(JSON.stringify({ ...result, errors }));
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
