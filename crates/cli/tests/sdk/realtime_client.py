"""Drives Sokuji's realtime WebSockets through the official OpenAI Python SDK, unchanged.

usage: realtime_client.py BASE_URL transcribe|translate PCM24K_FILE LANGUAGE
Sends the raw 24 kHz PCM16 file as 100 ms appends, then reads events until the expected end
(`want` completed transcripts, or `session.closed`), and prints every event as one JSON line
(audio deltas as their byte length).
"""
import base64
import json
import sys
import time

from openai import OpenAI

base_url, mode, pcm_file, language = sys.argv[1:5]
want = int(sys.argv[5]) if len(sys.argv) > 5 else 1
client = OpenAI(base_url=base_url, api_key="not-needed", max_retries=0)
pcm = open(pcm_file, "rb").read()
chunks = [pcm[i : i + 4800] for i in range(0, len(pcm), 4800)]  # 100 ms at 24 kHz, 16-bit


def show(event):
    e = event.model_dump() if hasattr(event, "model_dump") else dict(event)
    if e.get("type") == "session.output_audio.delta":
        e["delta"] = len(base64.b64decode(e["delta"]))
    print(json.dumps(e, ensure_ascii=False), flush=True)
    return e


deadline = time.time() + 180
if mode == "transcribe":
    with client.realtime.connect(extra_query={"intent": "transcription"}) as conn:
        conn.session.update(
            session={
                "type": "transcription",
                "audio": {
                    "input": {
                        "format": {"type": "audio/pcm", "rate": 24000},
                        "transcription": {"model": "whisper-1", "language": language},
                        "turn_detection": {"type": "server_vad", "silence_duration_ms": 500},
                    }
                },
            }
        )
        for c in chunks:
            conn.input_audio_buffer.append(audio=base64.b64encode(c).decode())
        completed = 0
        for event in conn:
            e = show(event)
            if e.get("type") == "conversation.item.input_audio_transcription.completed":
                completed += 1
            if completed >= want or time.time() > deadline:
                break
else:
    with client.realtime.translations.connect(model="gpt-realtime-translate") as conn:
        conn.session.update(
            session={"audio": {"output": {"language": language}, "input": {"transcription": {"model": "whisper-1"}}}}
        )
        for c in chunks:
            conn.session.input_audio_buffer.append(audio=base64.b64encode(c).decode())
        conn.session.close()
        for event in conn:
            e = show(event)
            if e.get("type") == "session.closed" or time.time() > deadline:
                break
