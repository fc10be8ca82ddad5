"""Write the recommendation demo: invented items (English and Chinese texts) and users who watch them in order.

Each user follows one or two genres and watches that genre's series in episode order, with a few popular
items mixed in, so the next item depends on the last ones (what a sequence-aware recommender can learn) and
on the item's text (what lets held-out items be ranked at all). Seeded: the output is the same every time.
Run from the repo root: python examples/recsys/generate.py
"""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).parent
GENRES = {
    "Sci-Fi|Adventure": [
        ("Star Voyager {n}", "A space adventure: robots and astronauts explore a distant galaxy, episode {n}."),
        ("星际远航 {n}", "太空冒险：机器人和宇航员探索遥远的星系，第{n}集。"),
    ],
    "Romance|Drama": [
        ("Letters in Paris {n}", "A love story between two strangers who meet in Paris, part {n}."),
        ("春日情书 {n}", "两个陌生人在杭州相遇的爱情故事，第{n}部。"),
    ],
    "Cooking|Documentary": [
        ("Kitchen Journeys {n}", "A chef cooks regional dishes, noodles and dumplings, in episode {n}."),
        ("舌尖上的家乡 {n}", "厨师走访各地，做面条和饺子等家常菜，第{n}集。"),
    ],
    "Sports|Football": [
        ("Final Whistle {n}", "A football team fights for the league title, season {n}."),
        ("绿茵传奇 {n}", "一支足球队为联赛冠军拼搏，第{n}季。"),
    ],
    "Mystery|Crime": [
        ("The Harbour Detective {n}", "A detective solves a murder in a foggy harbour town, case {n}."),
        ("神探狄公 {n}", "神探在古城里破解离奇的凶案，第{n}案。"),
    ],
}
EPISODES = 6  # per series; two series (English, Chinese) per genre


def _items() -> list[dict[str, str]]:
    items = []
    for genres, series in GENRES.items():
        for title, description in series:
            for n in range(1, EPISODES + 1):
                item = f"m{len(items) + 1:03d}"
                items.append(
                    {
                        "item": item,
                        "title": title.format(n=n),
                        "genres": genres,
                        "description": description.format(n=n),
                    }
                )
    return items


def _interactions(items: list[dict[str, str]], rng: random.Random) -> list[dict[str, str]]:
    by_series = [items[i : i + EPISODES] for i in range(0, len(items), EPISODES)]
    popular = [by_series[0][0], by_series[6][0]]  # two first episodes everyone seems to watch
    rows = []
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for u in range(1, 121):
        liked = rng.sample(range(len(by_series)), k=rng.choice([2, 3]))
        queue = []
        for s in liked:
            first = rng.randrange(0, 3)
            queue.append(by_series[s][first : first + rng.randint(3, EPISODES - first)])
        when = start + timedelta(days=rng.randrange(0, 60))
        watched: list[dict[str, str]] = []
        while any(queue):  # interleave the user's series, keeping each one in episode order
            series = rng.choice([q for q in queue if q])
            watched.append(series.pop(0))
            if rng.random() < 0.15:
                watched.append(rng.choice(popular))
        for item in watched:
            when += timedelta(hours=rng.randint(2, 48))
            rating = rng.choice(["3.5", "4", "4.5", "5"])
            rows.append({"user": f"u{u:03d}", "item": item["item"], "rating": rating, "timestamp": when.isoformat()})
    return rows


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    rng = random.Random(8)
    items = _items()
    _write(HERE / "items.csv", items)
    _write(HERE / "interactions.csv", _interactions(items, rng))


if __name__ == "__main__":
    main()
