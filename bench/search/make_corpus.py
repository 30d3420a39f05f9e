#!/usr/bin/env python3
"""Writes synthetic text sources for the search benchmark, made of real sentences.

Sentences come from the Debian FAQ (text version) and the R manuals (pdftotext), shuffled with a
fixed seed, so every run indexes the same words in the same proportions as real documentation.

    make_corpus.py <output dir> <documents> <chunks per document>
"""
import gzip
import pathlib
import random
import re
import subprocess
import sys


def sentences():
    texts = [gzip.open("/usr/share/doc/debian/FAQ/debian-faq.en.txt.gz", "rt").read()]
    for manual in ("R-intro.pdf", "R-data.pdf", "R-admin.pdf"):
        path = pathlib.Path("/usr/share/R/doc/manual") / manual
        if path.exists():
            texts.append(subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True).stdout)
    pool = []
    for text in texts:
        for sentence in re.split(r"(?<=[.?!])\s+", re.sub(r"\s+", " ", text)):
            if 30 <= len(sentence) <= 400:
                pool.append(sentence)
    return pool


def main():
    out, documents, chunks = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    pool = sentences()
    rng = random.Random(20261204)
    # About 2,000 characters make one 400-token chunk of English text.
    for number in range(documents):
        paragraphs = []
        for _ in range(chunks):
            paragraph = []
            while sum(len(s) + 1 for s in paragraph) < 1900:
                paragraph.append(rng.choice(pool))
            paragraphs.append(" ".join(paragraph))
        (out / f"doc-{number:04d}.txt").write_text("\n\n".join(paragraphs) + "\n")


if __name__ == "__main__":
    main()
