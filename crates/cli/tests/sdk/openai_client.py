"""Calls Sokuji through the official OpenAI Python SDK, unchanged; prints what came back as JSON."""
import json
import sys

from openai import OpenAI

base_url, speech, english = sys.argv[1], sys.argv[2], sys.argv[3]
client = OpenAI(base_url=base_url, api_key="not-needed", max_retries=0)
with open(speech, "rb") as f:
    verbose = client.audio.transcriptions.create(
        model="whisper-1",
        file=f,
        language="vi",
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
with open(speech, "rb") as f:
    plain = client.audio.transcriptions.create(model="whisper-1", file=f, response_format="text")
# A model named by the request instead of the deployment's routing.
with open(speech, "rb") as f:
    by_whisper = client.audio.transcriptions.create(
        model="whisper-base", file=f, language="vi", response_format="verbose_json"
    )
with open(english, "rb") as f:
    translated = client.audio.translations.create(model="whisper-1", file=f)
# Speech with a stock voice name, then heard back by the transcription endpoint.
spoken = "The juice of lemons makes fine punch."
speech_wav = client.audio.speech.create(model="tts-1", voice="alloy", input=spoken, response_format="wav").content
heard = client.audio.transcriptions.create(
    model="whisper-1", file=("speech.wav", speech_wav), language="en", response_format="text"
)
models = [m.id for m in client.models.list()]
print(json.dumps({
    "speech_bytes": len(speech_wav),
    "speech_riff": speech_wav[:4].decode("latin-1"),
    "heard": heard,
    "models": models,
    "text": verbose.text,
    "language": verbose.language,
    "duration": verbose.duration,
    "words": [{"word": w.word, "start": w.start, "end": w.end} for w in (verbose.words or [])],
    "segments": len(verbose.segments or []),
    "plain": plain,
    "producer": (verbose.model_extra or {}).get("producer"),
    "whisper_producer": (by_whisper.model_extra or {}).get("producer"),
    "translated": translated.text,
}))
