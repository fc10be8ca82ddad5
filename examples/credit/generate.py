"""Write the credit demo data: loan applications in English and Chinese, with a known, seeded risk model.

The ground truth is a logistic model of the columns below, so a learner has real signal to find; nothing is
copied from a public data set. Run from the repo root: python examples/credit/generate.py
"""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

HERE = Path(__file__).parent
PURPOSES = {"car": 0.0, "education": -0.3, "business": 0.6, "装修 renovation": 0.2, "旅游 travel": 0.8}
EMPLOYMENT = {"employed": -0.4, "self-employed": 0.2, "unemployed": 1.2, "在职": -0.4, "退休 retired": 0.1}
CITIES = ["北京", "上海", "深圳", "Berlin", "London", "Chicago"]


def _row(rng: random.Random) -> dict[str, object]:
    age = rng.randint(19, 75)
    income = round(rng.lognormvariate(8.3, 0.5) / 10) * 10
    amount = round(rng.lognormvariate(8.8, 0.7) / 100) * 100
    months = rng.choice([6, 12, 18, 24, 36, 48, 60])
    purpose = rng.choice(list(PURPOSES))
    employment = rng.choice(list(EMPLOYMENT))
    guarantor = rng.choice(["yes", "no", "no"])
    burden = amount / months / max(income, 1)
    logit = -1.6 + 4.0 * burden + PURPOSES[purpose] + EMPLOYMENT[employment] - 0.02 * (age - 40)
    logit += -0.7 if guarantor == "yes" else 0.0
    bad = rng.random() < 1 / (1 + math.exp(-logit))
    return {
        "age": age,
        "monthly_income": income,
        "loan_amount": amount,
        "duration_months": months,
        "purpose": purpose,
        "employment": employment,
        "city": rng.choice(CITIES),
        "guarantor": guarantor,
        "label": "bad" if bad else "good",
    }


def main() -> None:
    rng = random.Random(8)
    rows = [_row(rng) for _ in range(330)]
    columns = list(rows[0])
    for name, part in (("applications.csv", rows[:300]), ("new_applications.csv", rows[300:])):
        with (HERE / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(part)


if __name__ == "__main__":
    main()
