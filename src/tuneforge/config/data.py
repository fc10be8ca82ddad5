"""The `data` block: files, columns, cleaning, splitting, and how NER files are read."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from tuneforge.frozen import Frozen

__all__ = ["CleanConfig", "DataConfig", "NerDataConfig", "SplitConfig"]


class SplitConfig(Frozen):
    validation: float = Field(
        0.1, ge=0, lt=1, description="Share of train held out for validation when none is given."
    )
    test: float = Field(0.1, ge=0, lt=1, description="Share of train held out for test when none is given.")
    seed: int = Field(42, description="Seed of the split; the same seed gives the same split.")
    stratify: bool = Field(True, description="Keep class proportions equal across splits.")


class CleanConfig(Frozen):
    normalize: bool = Field(True, description="NFKC, full-width to half-width, whitespace and HTML remnants.")
    dedup: bool = Field(True, description="Drop exact and normalised duplicate texts; report conflicting labels.")
    redact_pii: bool = Field(False, description="Replace e-mails, phones, ID and card numbers, IPs by placeholders.")
    near_duplicates: float | None = Field(
        None,
        gt=0,
        le=1,
        description="Similarity (Jaccard of character 3-grams, e.g. 0.8) at which two texts count as one in dedup "
        "and leakage; null: off.",
    )

    @model_validator(mode="after")
    def _near_duplicates_need_dedup(self) -> CleanConfig:
        if self.near_duplicates is not None and not self.dedup:
            raise ValueError("near_duplicates is set but dedup is false: set dedup: true, or near_duplicates: null")
        return self


class NerDataConfig(Frozen):
    """How token-classification files are read: CoNLL columns, tag scheme, and what to do with stray I- tags."""

    tag_column: int = Field(-1, description="CoNLL column (0-based) holding the tag; -1 is the last column.")
    scheme: Literal["auto", "iob1", "iob2", "bioes"] = Field(
        "auto", description="Tag scheme of CoNLL files, normalised to IOB2; auto detects it per file."
    )
    stray_inside: Literal["begin", "outside", "error"] = Field(
        "begin", description="An I- tag that follows nothing: begin an entity, make it O, or reject the sentence."
    )

    @field_validator("tag_column")
    @classmethod
    def _not_the_token(cls, value: int) -> int:
        if value == 0:
            raise ValueError("column 0 holds the token; the tag is in another column (-1: the last)")
        return value


class DataConfig(Frozen):
    train: Path = Field(description="Training file: CSV, TSV, JSONL or Parquet; CoNLL or span JSONL for NER.")
    validation: Path | None = Field(None, description="Validation file; split from train when absent.")
    test: Path | None = Field(None, description="Test file; split from train when absent.")
    format: Literal["auto", "csv", "tsv", "jsonl", "parquet", "conll"] = Field(
        "auto", description="File format; auto uses the suffix (.jsonl/.json: JSONL, other NER files: CoNLL)."
    )
    encoding: str = Field("auto", description="Text encoding; auto detects UTF-8, UTF-8 with BOM and GBK.")
    text_column: str = Field("text", description="Column holding the input text.")
    label_column: str = Field(
        "label", description="Column holding the class label; for NER JSONL the spans ('entities' also found)."
    )
    labels: list[str] | None = Field(
        None, description="Declared label set (entity types for NER, e.g. [PER, CITY]); others are row errors."
    )
    max_tokens: int | None = Field(
        None, gt=0, description="Rows longer than this many tokens are errors; default 8 x train.max_length."
    )
    split: SplitConfig = Field(default_factory=SplitConfig, description="How missing validation/test are split off.")
    on_error: Literal["fail", "skip"] = Field(
        "fail", description="fail: stop listing bad rows; skip: drop and save them."
    )
    clean: CleanConfig = Field(default_factory=CleanConfig, description="Cleaning steps applied before splitting.")
    ner: NerDataConfig = Field(default_factory=NerDataConfig, description="Token classification: CoNLL and tags.")

    def for_labelled_file(self, source: Path, labels: list[str]) -> DataConfig:
        """These settings reading `source` alone for `tuneforge evaluate`: every row kept (no split, no dedup; bad
        rows skipped and listed), the run's labels, format and encoding detected anew."""
        return DataConfig(
            train=source,
            text_column=self.text_column,
            label_column=self.label_column,
            labels=labels,
            split=SplitConfig(validation=0, test=0),
            on_error="skip",
            clean=self.clean.model_copy(update={"dedup": False}),
            ner=self.ner,
        )

    @field_validator("labels")
    @classmethod
    def _labels_named_once(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return value
        if not value:
            raise ValueError("must name at least one label, or be null to take the labels found in train")
        if repeated := sorted({label for label in value if value.count(label) > 1}):
            raise ValueError(f"declares {', '.join(map(repr, repeated))} more than once; name each label once")
        return value

    @model_validator(mode="after")
    def _split_leaves_training_data(self) -> DataConfig:
        held_out = (self.split.validation if self.validation is None else 0) + (
            self.split.test if self.test is None else 0
        )
        if held_out >= 0.9:
            raise ValueError(f"split.validation + split.test must leave at least 10% for training, got {held_out:.2f}")
        return self
