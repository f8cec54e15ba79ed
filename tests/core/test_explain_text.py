"""Text SHAP and attention on a tiny trained text run (2-layer BERT, the packaged tokenizer)."""

from __future__ import annotations

import numpy as np
import pytest

from core.explain import explain
from core.explain.shap_text import TextModelFunction, explain_text
from core.predict import load_predictor
from core.store import RunStore
from core.tasks.text import TextPredictor
from tests.core.test_explain_fixtures import text_run, tiny_text_model

TEXT = "The blender is loud but it works great. Questions? Write to jane.doe@example.com please"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunStore, str]:
    root = tmp_path_factory.mktemp("explain_text")
    store = RunStore(root / "loupe.duckdb")
    return store, text_run(store, tiny_text_model(root / "tiny-bert"))


@pytest.mark.parametrize("output", ["probability", "logit"])
def test_token_attributions_add_up_for_predicted_and_chosen_class(run, output: str) -> None:
    store, run_id = run
    predictor = load_predictor(run_id, store)
    probs = predictor.predict_proba([TEXT])[0]
    predicted, other = int(probs.argmax()), int(probs.argmin())
    expl = explain(run_id, TEXT, target_class=predictor.labels[other], store=store, max_evals=120,
                   output=output, use_cache=False)
    assert expl.target_classes == [predicted, other]
    assert expl.labels == [predictor.labels[predicted], predictor.labels[other]]
    assert expl.values.shape == (len(expl.tokens), 2)
    outputs = np.array([expl.prediction["explained_outputs"][label] for label in expl.labels])
    np.testing.assert_allclose(expl.total(), outputs - expl.base_value, atol=1e-5)
    if output == "probability":  # two classes: what pushes one up pushes the other down
        np.testing.assert_allclose(expl.values[:, 0], -expl.values[:, 1], atol=1e-6)


def test_tokens_are_masked_and_nothing_personal_is_stored(run) -> None:
    store, run_id = run
    expl = explain(run_id, TEXT, store=store, max_evals=60)
    joined = "".join(expl.tokens)
    assert "<EMAIL>" in joined and "jane" not in joined and "example" not in joined
    assert "blender" in joined.lower()
    assert expl.tokens[0] != ""  # special tokens are named, not blanks
    with store.connect() as con:
        rows = con.execute("SELECT input_masked, result_json FROM explanations").fetchall()
    assert rows and all("jane" not in masked + result for masked, result in rows)


def test_masked_inputs_reach_the_model_in_large_batches(run) -> None:
    store, run_id = run
    predictor = load_predictor(run_id, store)
    seen: list[TextModelFunction] = []
    expl = explain_text(predictor, TEXT, max_evals=300, fn_hook=seen.append,
                        progress=lambda fraction, message: None)
    fn = seen[0]
    assert fn.batch_size >= 256 and expl.info["batch_size"] == fn.batch_size
    # shap's default (batch_size 5) would call the model once per 5-6 masked texts
    assert fn.evals >= 150 and fn.calls <= fn.evals / 20
    frontier = explain_text(predictor, TEXT, max_evals=300, lookahead=False, fn_hook=seen.append)
    assert seen[1].evals <= 300 and seen[1].calls <= 300 / 20  # shap asked for big batches itself
    assert frontier.info["lookahead"] is False


@pytest.mark.parametrize("max_evals", [40, 150])
def test_same_values_as_shaps_default_call(run, max_evals: int) -> None:
    """Batching ahead must not change the refinement order: shap's own call, batch size 5."""
    import torch

    from core.explain.common import prepare_shap

    store, run_id = run
    predictor = load_predictor(run_id, store)
    shap = prepare_shap()

    def plain(texts):
        enc = predictor.tokenizer([str(t) for t in texts], padding=True, return_tensors="pt")
        with torch.no_grad():
            return torch.softmax(predictor.model(**enc).logits, -1).numpy().astype(np.float64)

    anchor = shap.Explainer(plain, shap.maskers.Text(predictor.tokenizer))([TEXT], max_evals=max_evals,
                                                                            silent=True)
    ours = explain_text(predictor, TEXT, max_evals=max_evals)
    predicted = ours.target_classes[0]
    np.testing.assert_allclose(ours.values[:, 0], anchor.values[0][:, predicted], atol=1e-6)
    assert ours.info["requested"] == max_evals and ours.info["model_calls"] < max_evals / 5


def test_progress_is_reported_from_zero_to_one(run) -> None:
    store, run_id = run
    seen: list[tuple[float, str]] = []
    explain(run_id, "works great", store=store, max_evals=40, use_cache=False,
            progress=lambda fraction, message: seen.append((fraction, message)))
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions)


def test_cached_text_explanation_skips_the_model(run, monkeypatch) -> None:
    store, run_id = run
    first = explain(run_id, "quiet and sturdy", store=store, max_evals=50)

    def boom(*args, **kwargs):
        raise AssertionError("the model was called for a cached explanation")

    monkeypatch.setattr(TextPredictor, "predict_proba", boom)
    again = explain(run_id, "quiet and sturdy", store=RunStore(store.path), max_evals=50)
    assert again.from_cache and not first.from_cache
    assert again.tokens == first.tokens
    np.testing.assert_array_equal(again.values, first.values)


def test_attention_rows_sum_to_one_and_rollout_is_consistent(run) -> None:
    store, run_id = run
    expl = explain(run_id, TEXT, method="attention", store=store)
    att, roll = expl.arrays["attentions"], expl.arrays["rollout"]
    n = len(expl.tokens)
    assert att.shape == (2, 2, n, n) and roll.shape == (n, n)
    np.testing.assert_allclose(att.sum(axis=-1), 1.0, atol=1e-4)
    np.testing.assert_allclose(roll.sum(axis=-1), 1.0, atol=1e-4)
    assert "<EMAIL>" in "".join(expl.tokens) and "jane" not in "".join(expl.tokens)
    heads = expl.frames["heads"]
    assert len(heads) == 4 and heads["focus"].between(0, 1).all()
    cached = explain(run_id, TEXT, method="attention", store=store)
    assert cached.from_cache
    np.testing.assert_allclose(cached.arrays["attentions"], att, atol=1e-5)


def test_long_input_is_truncated_with_a_notice(run) -> None:
    store, run_id = run
    long_text = " ".join(["great"] * 80)
    attention = explain(run_id, long_text, method="attention", store=store)
    assert len(attention.tokens) == 32 and "32" in attention.notices[0]
    shap_expl = explain(run_id, long_text, store=store, max_evals=30, window=0)
    assert shap_expl.notices and "max_length" in shap_expl.notices[0]
    # the players are the 30 words the model reads (+ [CLS]/[SEP]), not all 80 pasted words
    assert len(shap_expl.tokens) == 32
    label = shap_expl.labels[0]
    f_x = shap_expl.prediction["explained_outputs"][label]
    assert float(shap_expl.total()[0] + shap_expl.base_value[0]) == pytest.approx(f_x, abs=1e-5)
