"""Request and response bodies, with the examples shown in the OpenAPI docs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

__all__ = [
    "ChatMessage",
    "ChatRequest",
    "FeedbackCreated",
    "FeedbackRequest",
    "ModelCard",
    "ModelList",
    "PredictRequest",
    "PredictResponse",
    "ReloadRequest",
]


# Upper bounds of the settings max_texts and max_text_chars, stated in the schema; a server may set lower ones.
MAX_TEXTS = 64
MAX_TEXT_CHARS = 10_000


def _scalar_values(value: str) -> str:
    """JSON's \\ud800 escapes decode to lone surrogates, which no tokenizer, database or JSON response can take."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"not valid Unicode: a lone surrogate at character {exc.start}") from None
    return value


# A string of Unicode scalar values: no lone surrogates.
Unicode = Annotated[StrictStr, AfterValidator(_scalar_values)]

# At least one non-space character (JSON Schema patterns match anywhere, as pydantic's do).
Text = Annotated[Unicode, StringConstraints(pattern=r"\S", max_length=MAX_TEXT_CHARS)]


def _surrogates(value: Any, where: str) -> list[str]:
    """One problem per string holding a lone surrogate in a JSON value, keys included, each named by its path."""
    if isinstance(value, str):
        try:
            _scalar_values(value)
        except ValueError as exc:
            return [f"{where}: {exc}"]
        return []
    if isinstance(value, list):
        return [problem for i, item in enumerate(value) for problem in _surrogates(item, f"{where}[{i}]")]
    if isinstance(value, dict):
        problems = []
        for key, item in value.items():
            # the path goes into the error message, which must be valid Unicode itself: surrogates become U+FFFD
            named = f"{where}.{key.encode('utf-16', 'surrogatepass').decode('utf-16', 'replace')}"
            problems += _surrogates(key, f"{named} (key)") + _surrogates(item, named)
        return problems
    return []


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _predict_schema(schema: dict[str, Any]) -> None:
    """Examples; `texts` and `records` not nullable (null is refused), and exactly one of them required."""
    for name in ("texts", "records"):
        field = schema["properties"][name]
        field.update(next(option for option in field.pop("anyOf") if option.get("type") != "null"))
        field.pop("default", None)
    schema["oneOf"] = [{"required": ["texts"]}, {"required": ["records"]}]
    schema["examples"] = [
        {"texts": ["我的快递到哪了?", "Where is my refund?"]},
        {"records": [{"age": 35, "purpose": "car", "loan_amount": 5000}]},
        {"records": [{"user": "u001", "k": 5}, {"text": "space adventure with robots"}]},
    ]


class PredictRequest(_Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_predict_schema)
    texts: list[Text] | None = Field(
        None,
        min_length=1,
        max_length=MAX_TEXTS,
        description="Texts to classify or tag (text-classification, token-classification); the server may allow "
        "fewer.",
    )
    records: list[dict[str, Any]] | None = Field(
        None,
        min_length=1,
        max_length=MAX_TEXTS,
        description="JSON objects instead of texts: table rows (tabular-classification), or `{user}` / "
        "`{text}` queries with an optional `k` (recommendation).",
    )

    @field_validator("texts", "records", mode="before")
    @classmethod
    def _no_null(cls, value: Any) -> Any:
        if value is None:  # an explicit null: leave the field out instead
            raise ValueError("null is not allowed; leave the field out")
        return value

    @field_validator("records")
    @classmethod
    def _records_are_unicode(cls, records: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        problems = [p for i, record in enumerate(records or []) for p in _surrogates(record, f"records[{i}]")]
        if problems:
            raise ValueError("; ".join(problems))
        return records

    @model_validator(mode="after")
    def _texts_or_records(self) -> PredictRequest:
        if (self.texts is None) == (self.records is None):
            raise ValueError("give exactly one of texts and records")
        return self


class PredictResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model": "demo",
                    "request_id": "5f1c0e6a9b3d4f7e8a2c1b0d9e8f7a6b",
                    "predictions": [
                        {
                            "id": "5f1c0e6a9b3d4f7e8a2c1b0d9e8f7a6b-0",
                            "label": "delivery",
                            "score": 0.93,
                            "probabilities": {"delivery": 0.93, "refund": 0.07},
                        }
                    ],
                }
            ]
        }
    )
    model: str
    request_id: str
    predictions: list[dict[str, Any]] = Field(
        description="Per text or record: `id` (for feedback) and the task's output: label, score and "
        "probabilities; NER: entities with character offsets; tabular: probability, decision and top features; "
        "recommendation: items with scores."
    )


class EntitySpan(_Strict):
    """A corrected entity: character offsets [start, end) of the predicted text, as the predict response gives."""

    start: StrictInt = Field(ge=0, description="Offset of the entity's first character.")
    end: StrictInt = Field(gt=0, description="Offset just past its last character.")
    label: Unicode = Field(min_length=1, max_length=200, description="The entity type, e.g. PER.")

    @model_validator(mode="after")
    def _not_empty(self) -> EntitySpan:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be greater than start ({self.start})")
        return self


class FeedbackRequest(_Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"prediction_id": "5f1c0e6a9b3d4f7e8a2c1b0d9e8f7a6b-0", "label": "refund"}],
            "anyOf": [
                {"required": ["label"]},
                {"required": ["rating"]},
                {"required": ["answer"]},
                {"required": ["entities"]},
            ],
        },
    )
    prediction_id: StrictStr = Field(
        min_length=1, max_length=64, description="`id` of a prediction or chat completion."
    )
    # Not nullable in the schema (SkipJsonSchema), and at least one of the three required (anyOf below).
    # Strict types: `"rating": true` or `"label": 1` is a 422, not a coerced 1 or "1".
    label: Annotated[Unicode, Field(min_length=1, max_length=200)] | SkipJsonSchema[None] = Field(
        None, description="The correct label: one of the model's labels."
    )
    rating: Annotated[StrictInt, Field(ge=1, le=5)] | SkipJsonSchema[None] = Field(
        None, description="1 (bad) to 5 (good)."
    )
    # At least one non-space character: training rejects an empty answer turn.
    answer: Annotated[Unicode, StringConstraints(pattern=r"\S", max_length=20_000)] | SkipJsonSchema[None] = Field(
        None, description="A corrected chat answer; exported as the assistant turn of the logged conversation."
    )

    entities: list[EntitySpan] | SkipJsonSchema[None] = Field(
        None,
        max_length=1000,
        description="The correct entities of an NER prediction (an empty list: none); exported as span JSONL.",
    )

    @field_validator("label", "rating", "answer", "entities", mode="before")
    @classmethod
    def _no_null(cls, value: Any) -> Any:
        if value is None:  # an explicit null: leave the field out instead
            raise ValueError("null is not allowed; leave the field out")
        return value

    @model_validator(mode="after")
    def _something_given(self) -> FeedbackRequest:
        if self.label is None and self.rating is None and self.answer is None and self.entities is None:
            raise ValueError("give at least one of label, rating, answer or entities")
        return self


class FeedbackCreated(BaseModel):
    id: int
    prediction_id: str


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "tuneforge"
    task: str
    version: str | None = Field(None, description="The registry version served (serve --registry); else null.")


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class ReloadRequest(_Strict):
    path: str | None = Field(None, description="Run dir to load; default the model's current dir (re-read).")


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: Unicode = Field(max_length=MAX_TEXT_CHARS)


class ChatRequest(BaseModel):
    """The OpenAI chat-completions request; fields it does not use are accepted and ignored."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"model": "support-sft", "messages": [{"role": "user", "content": "我的订单还没发货"}], "stream": True}
            ]
        }
    )
    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1)
    temperature: float = Field(1.0, ge=0, le=2)
    top_p: float = Field(1.0, gt=0, le=1)
    seed: int | None = None
