#!/usr/bin/env python3
"""One peer's near-duplicate pipeline on a JSONL corpus, for
scripts/compare-peers.sh.

usage: peers.py TOOL FILE.jsonl      TOOL: datasketch | rensa | gaoya

The pipeline is the one the peers document for deduplication, with the
settings of the performance issue: lowercase, split on whitespace, word
5-shingles, 128 permutations, LSH with 16 bands of 8 rows (threshold near
0.8 ... about 0.71 at the S-curve's midpoint), every document inserted and
then queried. Reading and parsing the JSONL is part of the timed work, as
it is for `neardup scan`. Prints one JSON line: documents, text bytes,
candidate pairs.
"""
import json
import sys

NUM_PERM, BANDS, ROWS, THRESHOLD = 128, 16, 8, 0.8


def read(path):
    ids, texts = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            ids.append(r["id"])
            texts.append(r["text"])
    return ids, texts


def shingles(text):
    words = text.lower().split()
    return {" ".join(words[i:i + 5]) for i in range(max(len(words) - 4, 1))}


def run_datasketch(texts):
    from datasketch import MinHash, MinHashLSH
    lsh = MinHashLSH(num_perm=NUM_PERM, params=(BANDS, ROWS))
    sketches = []
    for i, text in enumerate(texts):
        m = MinHash(num_perm=NUM_PERM)
        m.update_batch([s.encode() for s in shingles(text)])
        lsh.insert(i, m)
        sketches.append(m)
    return sum(len(lsh.query(m)) - 1 for m in sketches) // 2


def run_rensa(texts):
    from rensa import RMinHash, RMinHashLSH
    lsh = RMinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, num_bands=BANDS)
    sketches = []
    for i, text in enumerate(texts):
        m = RMinHash(num_perm=NUM_PERM, seed=42)
        m.update(list(shingles(text)))
        lsh.insert(i, m)
        sketches.append(m)
    return sum(len(lsh.query(m)) - 1 for m in sketches) // 2


def run_gaoya(texts):
    from gaoya.minhash import MinHashStringIndex
    index = MinHashStringIndex(hash_size=32, jaccard_threshold=THRESHOLD, num_bands=BANDS,
                               band_size=ROWS, analyzer="word", lowercase=True,
                               ngram_range=(5, 5))
    index.par_bulk_insert_docs(list(range(len(texts))), texts)
    return sum(len(found) - 1 for found in index.par_bulk_query(texts)) // 2


def main():
    tool, path = sys.argv[1], sys.argv[2]
    ids, texts = read(path)
    pairs = {"datasketch": run_datasketch, "rensa": run_rensa, "gaoya": run_gaoya}[tool](texts)
    print(json.dumps({"tool": tool, "documents": len(ids),
                      "text_bytes": sum(len(t.encode()) for t in texts), "pairs": pairs}))


if __name__ == "__main__":
    main()
