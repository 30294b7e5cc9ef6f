"""English/Vietnamese sentence pairs from gettext catalogues (`msgunfmt` output on stdin): real
Vietnamese text with its English source, for bench/search.sh's quality run. Keeps messages of
15 to 120 Vietnamese words without format specifiers or markup, each English and each
Vietnamese side once; prints `english<TAB>vietnamese` lines."""
import ast
import sys

entries, cur, key = [], {}, None
for line in sys.stdin:
    line = line.rstrip("\n")
    if line.startswith("msgid "):
        if cur.get("msgstr"):
            entries.append(cur)
        cur, key = {"msgid": ast.literal_eval(line[6:])}, "msgid"
    elif line.startswith("msgstr "):
        cur["msgstr"], key = ast.literal_eval(line[7:]), "msgstr"
    elif line.startswith(("msgid_plural", "msgstr[", "msgctxt")):
        key = None
    elif line.startswith('"') and key:
        cur[key] += ast.literal_eval(line)
if cur.get("msgstr"):
    entries.append(cur)

seen_en, seen_vi = set(), set()
for e in entries:
    en, vi = " ".join(e["msgid"].split()), " ".join(e["msgstr"].split())
    if not (15 <= len(vi.split()) <= 120) or any(c in en for c in "%<\t") or "--" in en:
        continue
    if en in seen_en or vi in seen_vi:
        continue
    seen_en.add(en)
    seen_vi.add(vi)
    print(f"{en}\t{vi}")
