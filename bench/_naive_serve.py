"""The baseline of serve_load.py: a FastAPI endpoint that calls a transformers pipeline once per request.

python bench/_naive_serve.py MODEL_DIR PORT
"""

from __future__ import annotations

import sys
from typing import Any

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel
from transformers import pipeline

classifier = pipeline("text-classification", model=sys.argv[1], device="cpu")
app = FastAPI()


class Texts(BaseModel):
    texts: list[str]


@app.get("/readyz")
def readyz() -> dict[str, str]:
    return {"status": "ready"}


# A sync route: FastAPI runs it in its thread pool, as most users write it.
@app.post("/predict")
def predict(body: Texts) -> list[list[dict[str, Any]]]:
    return classifier(body.texts, top_k=None)


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
