"""Write the bundled NER demo data: customer-service sentences in Chinese and English with four entity types.

PER (person), CITY, ORDER (order number), PRODUCT. Everything here is invented; run from the repo root to
regenerate the files (the output is the same for the same seed):

    python examples/ner/generate.py
"""

from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent

VALUES = {
    "zh": {
        "PER": [
            "张伟",
            "王芳",
            "李娜",
            "刘洋",
            "陈静",
            "杨磊",
            "赵敏",
            "黄强",
            "周杰",
            "吴霞",
            "徐明",
            "孙丽",
            "马超",
            "朱琳",
            "胡斌",
            "郭婷",
            "欧阳娜娜",
            "司马南",
        ],
        "CITY": [
            "北京",
            "上海",
            "广州",
            "深圳",
            "杭州",
            "成都",
            "武汉",
            "南京",
            "西安",
            "重庆",
            "苏州",
            "天津",
            "哈尔滨",
            "乌鲁木齐",
        ],
        "PRODUCT": [
            "蓝牙耳机",
            "电饭煲",
            "扫地机器人",
            "智能手表",
            "空气净化器",
            "机械键盘",
            "保温杯",
            "电动牙刷",
            "笔记本电脑",
            "咖啡机",
            "加湿器",
            "投影仪",
        ],
    },
    "en": {
        "PER": [
            "John Smith",
            "Maria Garcia",
            "Wei Zhang",
            "Emma Brown",
            "Liam Johnson",
            "Olivia Davis",
            "Noah Wilson",
            "Ava Martinez",
            "Lucas Müller",
            "Sophie Dubois",
            "Raj Patel",
            "Yuki Tanaka",
            "Anna",
            "Tom O'Brien",
        ],
        "CITY": [
            "New York",
            "London",
            "Berlin",
            "Paris",
            "San Francisco",
            "Toronto",
            "Sydney",
            "Singapore",
            "Shanghai",
            "Beijing",
            "Madrid",
            "Chicago",
            "Rio de Janeiro",
        ],
        "PRODUCT": [
            "wireless earbuds",
            "rice cooker",
            "robot vacuum",
            "smart watch",
            "air purifier",
            "mechanical keyboard",
            "travel mug",
            "electric toothbrush",
            "laptop stand",
            "espresso machine",
            "Kindle Paperwhite",
            "iPhone 15",
        ],
    },
}

TEMPLATES = {
    "zh": [
        "{PER}在{CITY}下单了订单 {ORDER}",
        "{PER}说{PRODUCT}还没有送到{CITY}",
        "订单{ORDER}的{PRODUCT}坏了，请联系{PER}",
        "我是{PER}，想查询一下订单 {ORDER} 的物流。",
        "请把{PRODUCT}寄到{CITY}，收件人{PER}。",
        "{CITY}仓库发出的{PRODUCT}什么时候到？",
        "订单号：{ORDER}，商品：{PRODUCT}，城市：{CITY}",
        "{PER}要求退货，订单{ORDER}里的{PRODUCT}有划痕",
        "你好，我在{CITY}，买的{PRODUCT}一直显示未发货",
        "客服{PER}已经处理了{ORDER}的退款",
        "{PER}和{PER}都在{CITY}买了{PRODUCT}",
        "麻烦帮我改一下地址，从{CITY}改到{CITY}，订单 {ORDER}",
        "今天天气不错，快递什么时候上班？",
        "我的优惠券怎么用不了？",
    ],
    "en": [
        "{PER} ordered a {PRODUCT} in {CITY}, order {ORDER}.",
        "Hi, this is {PER}. Where is my order {ORDER}?",
        "The {PRODUCT} I bought never arrived in {CITY}!",
        "Order {ORDER} ({PRODUCT}) was shipped from {CITY} yesterday.",
        "Please refund order {ORDER}; the {PRODUCT} is broken. Thanks, {PER}",
        "Can {PER} pick up the {PRODUCT} at the {CITY} store?",
        "{PER} asked whether {ORDER} can be delivered to {CITY} instead of {CITY}.",
        "My {PRODUCT} stopped working after two days - order {ORDER}.",
        "Agent {PER} said the {PRODUCT} would reach {CITY} by Friday.",
        "Is the {PRODUCT} in stock in {CITY}?",
        "{PER} and {PER} both returned their {PRODUCT}.",
        "Change the address of {ORDER} to {CITY}, please.",
        "How do I reset my password?",
        "Your app keeps crashing when I open it.",
    ],
}


def order_id(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    shape = rng.randrange(3)
    if shape == 0:
        return f"{rng.choice(letters)}{rng.randrange(1000, 99999)}"
    if shape == 1:
        return f"SO-{rng.randrange(10000, 999999)}"
    return f"{rng.choice(letters)}{rng.choice(letters)}{rng.randrange(100000, 9999999)}"


def fill(template: str, lang: str, rng: random.Random) -> tuple[str, list[tuple[int, int, str]]]:
    """The template with values filled in, and the character spans of the entities."""
    text, spans = "", []
    for piece in re.split(r"(\{[A-Z]+\})", template):
        if piece.startswith("{"):
            kind = piece[1:-1]
            value = order_id(rng) if kind == "ORDER" else rng.choice(VALUES[lang][kind])
            spans.append((len(text), len(text) + len(value), kind))
            text += value
        else:
            text += piece
    return text, spans


def sentences(n: int, seed: int) -> list[tuple[str, list[tuple[int, int, str]]]]:
    rng = random.Random(seed)
    made, seen = [], set()
    while len(made) < n:
        lang = rng.choice(["zh", "en"])
        text, spans = fill(rng.choice(TEMPLATES[lang]), lang, rng)
        if text not in seen:  # messages without entities would otherwise repeat
            seen.add(text)
            made.append((text, spans))
    # A few long messages (several sentences) that run past train.max_length: split into windows, never cut.
    for _ in range(n // 25):
        lang = rng.choice(["zh", "en"])
        parts = [fill(rng.choice(TEMPLATES[lang]), lang, rng) for _ in range(6)]
        text, spans = "", []
        for part, part_spans in parts:
            spans += [(s + len(text), e + len(text), k) for s, e, k in part_spans]
            text += part + ("" if lang == "zh" else " ")
        made.append((text.rstrip(), spans))
    return made


def write_jsonl(path: Path, rows: list[tuple[str, list[tuple[int, int, str]]]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for text, spans in rows:
            entities = [{"start": s, "end": e, "label": k} for s, e, k in spans]
            handle.write(json.dumps({"text": text, "entities": entities}, ensure_ascii=False) + "\n")


def write_conll(path: Path, rows: list[tuple[str, list[tuple[int, int, str]]]]) -> None:
    import sys

    sys.path.insert(0, str(HERE.parents[1] / "src"))
    from tuneforge.tasks.token_classification.tags import split_words

    with path.open("w", encoding="utf-8") as handle:
        for text, spans in rows:
            for start, end in split_words(text):
                tag = "O"
                for s, e, kind in spans:
                    if s <= start and end <= e:
                        tag = ("B-" if start == s else "I-") + kind
                handle.write(f"{text[start:end]}\t{tag}\n")
            handle.write("\n")


def main() -> None:
    write_jsonl(HERE / "train.jsonl", sentences(600, seed=1))
    write_conll(HERE / "test.conll", sentences(120, seed=2))
    with (HERE / "new_texts.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerows([id_, text] for id_, (text, _) in enumerate(sentences(10, seed=3), start=1))


if __name__ == "__main__":
    main()
