#!/usr/bin/env python3
"""Writes the text sources of the search benchmark from real documentation on this machine.

The text is the Debian FAQ, the R manuals, the PostgreSQL 15 and Python 3.11 HTML manuals and the
manual pages (English, then the translations), each kept in its own reading order. Files are
concatenated into documents of about --document-bytes, in a fixed order, so every run indexes the
same text. Nothing is repeated: word frequencies are those of real documentation.

    make_corpus.py <output dir> [--document-bytes N] [--max-bytes N]
"""
import argparse
import gzip
import html.parser
import pathlib
import re
import subprocess


class TextOfHtml(html.parser.HTMLParser):
    """The visible text of an HTML page, without scripts, styles and navigation."""

    SKIPPED = {"script", "style", "nav", "head"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.skip_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIPPED:
            self.skip_depth += 1
        elif tag in ("p", "div", "li", "h1", "h2", "h3", "h4", "pre", "tr", "dt", "dd"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIPPED and self.skip_depth > 0:
            self.skip_depth -= 1

    def handle_data(self, data):
        if self.skip_depth == 0:
            self.parts.append(data)


def html_text(path):
    parser = TextOfHtml()
    parser.feed(path.read_text(errors="replace"))
    return "".join(parser.parts)


TROFF_ESCAPE = re.compile(r"\\f(\[[^\]]*\]|\(..|.)|\\\*(\[[^\]]*\]|\(..|.)|\\\((..)|\\[&|^~%e-]|\\s[-+]?\d+")


def man_text(path):
    """Returns the words of a manual page: troff requests dropped, their text arguments kept."""
    lines = []
    with gzip.open(path, "rt", errors="replace") as page:
        for line in page:
            if line.startswith(('.\\"', "'\\\"")):
                continue
            if line.startswith((".", "'")):
                request, _, rest = line[1:].partition(" ")
                if request in ("SH", "SS", "B", "I", "BR", "IR", "RB", "BI", "IB", "RI", "TP", "IP", "Nm", "Nd", "Sh"):
                    line = rest.replace('"', "")
                else:
                    continue
            lines.append(TROFF_ESCAPE.sub(" ", line))
    return "".join(lines)


def pdf_text(path):
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True).stdout


def texts():
    yield gzip.open("/usr/share/doc/debian/FAQ/debian-faq.en.txt.gz", "rt").read()
    for manual in sorted(pathlib.Path("/usr/share/R/doc/manual").glob("*.pdf")):
        yield pdf_text(manual)
    for folder in ("/usr/share/doc/postgresql-doc-15/html", "/usr/share/doc/python3.11/html"):
        for page in sorted(pathlib.Path(folder).rglob("*.html")):
            yield html_text(page)
    for section in range(1, 9):
        for page in sorted(pathlib.Path(f"/usr/share/man/man{section}").glob("*.gz")):
            yield man_text(page)
    # Translated manual pages (Chinese and Japanese among them) come last.
    for page in sorted(pathlib.Path("/usr/share/man").glob("[a-z][a-z]*/man[1-8]/*.gz")):
        yield man_text(page)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("output")
    parser.add_argument("--document-bytes", type=int, default=1_000_000)
    parser.add_argument("--max-bytes", type=int, default=240_000_000)
    args = parser.parse_args()

    out = pathlib.Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    number, total, current = 0, 0, []
    current_bytes = 0

    def flush():
        nonlocal number, current, current_bytes
        if current:
            (out / f"doc-{number:04d}.txt").write_text("\n\n".join(current) + "\n")
            number += 1
        current, current_bytes = [], 0

    for text in texts():
        text = re.sub(r"[ \t]+", " ", re.sub(r"\n\s*\n\s*", "\n\n", text)).strip()
        if len(text) < 200:
            continue
        current.append(text)
        current_bytes += len(text.encode())
        total += len(text.encode())
        if current_bytes >= args.document_bytes:
            flush()
        if total >= args.max_bytes:
            break
    flush()
    print(f"{number} documents, {total / 1e6:.1f} MB of text")


if __name__ == "__main__":
    main()
