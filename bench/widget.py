"""The widget in Chromium: how soon similar requests show after the last keystroke, and its size.

    .venv/bin/python bench/widget.py [--requests N] [--drafts N]

``featurebridge serve`` on SQLite with ``--requests`` synthetic requests of one
app (titles of 3-6 words from a small vocabulary), the widget on a second
loopback origin, Debian's Chromium driven by Playwright. Each draft is the
title of a seeded request with one word changed, typed at 60 ms a key; the
time runs from the last keystroke until similar requests show (the widget
waits 300 ms after typing stops, then asks ``/similar``). Prints p50 and p95 of
that time, how often the edited request was among the three shown, and the
served script's bytes, raw and gzipped.
"""

from __future__ import annotations

import argparse
import gzip
import random
import statistics
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bridge.domain import Status  # noqa: E402
from tests.browser_support import (  # noqa: E402
    bridge_and_host,
    chromium,
    one_app_config,
    watched_page,
)
from tests.fakes import indexed  # noqa: E402

CONFIG = one_app_config(server="[server.rate_limits]\nreads_per_minute = 100000\n")
# In the page: when the last keystroke reached the title, and when similar requests showed.
CLOCKS = """() => {
    const root = document.querySelector('[data-featurebridge]').shadowRoot;
    root.querySelector('input[name=title]').addEventListener('input', () => {
        window.typedAt = performance.now();
    });
    const box = root.querySelector('.fbw-similar');
    new MutationObserver(() => {
        if (!box.hidden && box.querySelector('li')) window.shownAt = performance.now();
    }).observe(box, {attributes: true, childList: true, subtree: true});
}"""
WORDS = [
    "dark",
    "mode",
    "export",
    "import",
    "calendar",
    "sync",
    "offline",
    "widget",
    "search",
    "filter",
    "sort",
    "share",
    "invite",
    "team",
    "billing",
    "invoice",
    "report",
    "chart",
    "dashboard",
    "reminder",
    "alarm",
    "timer",
    "note",
    "tag",
    "folder",
    "archive",
    "backup",
    "restore",
    "theme",
    "font",
    "color",
    "keyboard",
    "shortcut",
    "voice",
    "photo",
    "video",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--drafts", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(22)
    titles = [" ".join(rng.sample(WORDS, rng.randint(3, 6))) for _ in range(args.requests)]
    seeded = [indexed(n, title, Status.OPEN, n % 7) for n, title in enumerate(titles, 1)]
    timings: list[float] = []
    found = 0
    with (
        tempfile.TemporaryDirectory() as tmp,
        bridge_and_host(Path(tmp), CONFIG, seeded) as (
            base,
            host,
        ),
    ):
        with urllib.request.urlopen(f"{base}/widget.js") as answer:
            script = answer.read()
        url = host.page("/bench", **{"data-target": "#feedback", "data-mode": "form"})
        with chromium() as browser, watched_page(browser) as page:
            for _ in range(args.drafts):
                number = rng.randint(1, args.requests)
                words = titles[number - 1].split()
                words[rng.randrange(len(words))] = rng.choice(WORDS)
                page.goto(url)
                field = page.get_by_label("Title")
                field.wait_for()
                page.evaluate(CLOCKS)
                field.press_sequentially(" ".join(words), delay=60)
                page.locator(".fbw-similar li").first.wait_for(timeout=10_000)
                timings.append(page.evaluate("window.shownAt - window.typedAt") / 1000)
                found += page.locator(f'.fbw-similar li[data-number="{number}"]').count()
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    print(f"widget.js: {len(script)} bytes, {len(gzip.compress(script, 9))} gzipped")
    print(
        f"similar shown after the last keystroke ({args.requests} requests, "
        f"{len(timings)} drafts): p50 {statistics.median(timings) * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms (300 ms of it the widget's debounce); "
        f"the edited request among the 3 shown for {found} of {len(timings)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
