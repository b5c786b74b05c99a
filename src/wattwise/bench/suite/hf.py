"""A local transformers model directory as a suite entry (``wattwise compress ./my-model``).

The directory is what ``save_pretrained`` writes (``config.json``, the
weights, the tokenizer's files). It is loaded with ``AutoModel`` and
``AutoTokenizer`` and ``local_files_only=True``: nothing reaches a model hub,
and no code from the directory runs (``trust_remote_code`` stays off).

The workload is the text-embedding one of ``minilm-embed``, so any encoder
or decoder is judged the same way: a step embeds a batch of the shipped
sentences (pre-tokenized), and quality is the cosine fidelity of the
mean-pooled, normalised last hidden states to the fp32 model's over all of
them (x 100 in a compression study).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wattwise.bench._deps import need
from wattwise.bench.suite.entry import SuiteEntry
from wattwise.errors import BadInput

#: Sentences per step, as for minilm-embed.
BATCH = 32


def load(path: str | Path) -> tuple[Any, Any]:
    """The fp32 model (eval mode, no KV cache) and tokenizer in ``path``."""
    transformers = need("transformers")
    p = Path(path).expanduser()
    if not (p / "config.json").is_file():
        raise BadInput(f"{str(path)!r:.80} is not a transformers model directory (no "
                       "config.json; save one with model.save_pretrained(path))")
    try:
        model = transformers.AutoModel.from_pretrained(str(p), local_files_only=True)
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(p), local_files_only=True)
    except Exception as exc:  # any loading failure is the directory's
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise BadInput(f"cannot load the transformers model in {str(path)!r:.80}: "
                       f"{type(exc).__name__}: {text:.200}") from exc
    if tokenizer.pad_token is None:  # decoder tokenizers often have none; batches need one
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    if tokenizer.pad_token is None:
        raise BadInput(f"the tokenizer in {str(path)!r:.80} has no pad, end or unknown token "
                       "to pad batches with")
    if getattr(model.config, "use_cache", None):
        model.config.use_cache = False  # caches are outputs a benchmark never reads
    return model.eval(), tokenizer


def hf_entry(path: str | Path) -> SuiteEntry:
    """The entry of the transformers model in ``path``: embed shipped sentences."""
    from wattwise.bench.suite import minilm
    from wattwise.bench.suite.user import UserModel, entry_for

    model, tokenizer = load(path)
    texts = minilm.sentences()
    reference = minilm.embed_texts(model, texts, tokenizer=tokenizer)

    def fidelity(m: Any) -> float:
        got = minilm.embed_texts(m, texts, tokenizer=tokenizer)
        return float((got * reference).sum(dim=1).mean())

    inputs = minilm.minilm_inputs(BATCH, tokenizer)
    um = UserModel(model, inputs, quality=lambda m: 100.0 * fidelity(m),
                   quality_name="cosine fidelity of sentence embeddings to fp32",
                   quality_unit="cosine fidelity x 100", samples=BATCH,
                   calibration=(minilm.minilm_inputs(16, tokenizer),),
                   task="sentence-embedding")
    kind = type(model).__name__
    return entry_for(str(path), um, description=f"{kind} from {path}, embedding shipped "
                     "sentences", score_reference=False)
