"""Word error rate for the benchmark scripts: words lowercased, punctuation dropped, Levenshtein
distance over words (the same normalization as sokuji-core's `wer`)."""
import re


def words(text):
    return [w for w in re.sub(r"[^\w\s']", " ", text.lower()).split() if w]


def distance(a, b):
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a):
        cur = [i + 1]
        for j, y in enumerate(b):
            cur.append(min(prev[j] + (x != y), prev[j + 1] + 1, cur[j] + 1))
        prev = cur
    return prev[-1]
