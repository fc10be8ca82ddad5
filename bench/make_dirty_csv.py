"""Write a dirty CSV of customer messages (English and Chinese) and the line numbers of its bad rows.

    python bench/make_dirty_csv.py OUT.csv --rows 10000 --bad 1000 --seed 0

writes OUT.csv (text,label) and OUT.csv.expected.json: {"rows", "good", "bad", "labels", "bad_lines", "bad_kinds"}.
Exactly --bad rows are malformed, in mixed kinds ("unknown label" is an error when data.labels lists LABELS).
Some good rows are valid multi-line quoted fields, so that line numbers and record numbers differ. Every good row
holds a unique order number: dedup removes none of them.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
from collections import Counter
from pathlib import Path

LABELS = ("refund", "delivery", "account", "complaint", "other")
ITEMS = ("headphones", "phone case", "coffee maker", "running shoes", "蓝牙耳机", "保温杯", "机械键盘", "羽绒服")
TEMPLATES = {
    "refund": [
        "I want a refund for the {item}, order {order}.",
        "Please return my money for order {order}, the {item} is broken",
        "订单{order}的{item}有质量问题，我要退款。",
        "申请退款：订单号{order}，{item}不想要了",
    ],
    "delivery": [
        "Where is my {item}? Order {order} has not arrived yet.",
        'Tracking for order {order} says "delivered" but I got nothing',
        "订单{order}的{item}什么时候发货？",
        "快递到哪了？订单{order}已经一周没动了",
    ],
    "account": [
        "I cannot log in to my account, last order was {order}",
        "How do I change the e-mail on my account? Order ref {order}",
        "账号登录不了，最近的订单是{order}",
        "怎么修改绑定的手机号？订单{order}",
    ],
    "complaint": [
        "The courier was rude when delivering order {order}. Very disappointed!",
        "Order {order}: the {item} smelled of smoke, worst shopping experience",
        "客服态度太差了，订单{order}的问题一直没人处理！",
        "投诉：订单{order}的{item}和描述完全不符",
    ],
    "other": [
        "Do you sell gift cards? I liked order {order}",
        "Is the {item} available in blue? Asking about order {order}",
        "你们周末营业吗？订单{order}",
        "{item}有没有优惠券？参考订单{order}",
    ],
}
BAD_KINDS = ("empty text", "missing label", "unknown label", "wrong field count", "multi-line missing label")
UNKNOWN_LABELS = ("refnd", "billing", "Delivery?", "退款")


def _good_row(rng: random.Random, index: int) -> list[str]:
    label = rng.choice(LABELS)
    text = rng.choice(TEMPLATES[label]).format(item=rng.choice(ITEMS), order=f"TF{index:07d}")
    if rng.random() < 0.05:  # a valid multi-line quoted field, as pasted from an e-mail
        text = f"Hello,\n{text}\nThanks"
    return [text, label]


def _bad_row(rng: random.Random, index: int, kind: str) -> list[str]:
    text, label = _good_row(rng, index)
    if kind == "empty text":
        return [rng.choice(["", "   ", "<br>"]), label]
    if kind == "missing label":
        return [text, ""]
    if kind == "unknown label":
        return [text, rng.choice(UNKNOWN_LABELS)]
    if kind == "wrong field count":
        return rng.choice([[text, label, "extra"], [text]])
    return [f"{text}\nsent from my phone", ""]  # multi-line missing label: the error is on the first line


def _serialise(record: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(record)
    return buffer.getvalue()


def write_dirty_csv(path: Path, rows: int, bad: int, seed: int = 0) -> dict[str, object]:
    """Write the CSV and its expected.json beside it; return what expected.json holds."""
    if not 0 <= bad <= rows:
        raise ValueError(f"--bad must be between 0 and --rows ({rows}), got {bad}")
    rng = random.Random(seed)
    bad_at = set(rng.sample(range(rows), bad))
    kinds = [BAD_KINDS[i % len(BAD_KINDS)] for i in range(bad)]
    rng.shuffle(kinds)
    chunks, bad_lines, line = ["text,label\n"], [], 2
    for index in range(rows):
        kind = kinds.pop() if index in bad_at else None
        record = _serialise(_bad_row(rng, index, kind) if kind else _good_row(rng, index))
        if kind:
            bad_lines.append((line, kind))
        chunks.append(record)
        line += record.count("\n")  # physical lines: embedded newlines of quoted fields included
    Path(path).write_text("".join(chunks), encoding="utf-8")
    expected: dict[str, object] = {
        "rows": rows,
        "good": rows - bad,
        "bad": bad,
        "labels": list(LABELS),
        "bad_lines": [n for n, _ in bad_lines],
        "bad_kinds": dict(Counter(kind for _, kind in bad_lines)),
    }
    Path(f"{path}.expected.json").write_text(json.dumps(expected, indent=2), encoding="utf-8")
    return expected


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="CSV file to write; OUT.expected.json is written beside it")
    parser.add_argument("--rows", type=int, default=10_000, help="data rows in all, bad ones included")
    parser.add_argument("--bad", type=int, default=1_000, help="how many of them are malformed")
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed writes the same file")
    args = parser.parse_args(argv)
    expected = write_dirty_csv(args.out, args.rows, args.bad, args.seed)
    print(f"wrote {args.out}: {expected['good']} good rows, {expected['bad']} bad rows {expected['bad_kinds']}")


if __name__ == "__main__":
    main()
