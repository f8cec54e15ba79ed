"""What-if (issue 20) with real trained runs: a table run on a hand-made linear table (so the
closest counterfactual is known in closed form) and a tiny text run. Counterfactuals found must
really flip (or move) the model's own output, effect curves must equal direct model calls, the
CLI prints masked results, and careless input gets a named error."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from core.errors import LoupeError
from core.predict import load_predictor
from core.store import RunStore
from core.whatif import compare_edit, feature_effects, table_counterfactual, text_counterfactual
from core.whatif.text import edit_text, find_counterfactual, word_spans
from tests.core.test_explain_fixtures import runs_in_home, train_run


def linear_table_run(store: RunStore, folder: Path) -> str:
    """Flat rents: rent = 12 * size_m2 + 300 * (district == 'centre') + noise; a linear model."""
    rng = np.random.default_rng(1)
    n = 300
    size = rng.uniform(25, 120, n).round()
    district = rng.choice(["centre", "harbour", "hills"], n)
    floor = rng.integers(0, 8, n)
    rent = 12 * size + 300 * (district == "centre") + 5 * floor + rng.normal(0, 10, n)
    source = folder / "flats.csv"
    pd.DataFrame({"size_m2": size, "district": district, "floor": floor, "rent": rent}).to_csv(
        source, index=False)
    cfg = RunConfig(task="tabular", name="flats", data=DataConfig(source=str(source), target="rent"),
                    model=ModelConfig(name="mlp", hidden_sizes=(), dropout=0.0),
                    train=TrainConfig(epochs=30, max_steps=150, batch_size=32, lr=0.05, device="cpu",
                                      patience=0))
    return train_run(cfg, store)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return runs_in_home(tmp_path_factory.mktemp("whatif"), lambda store, home: {
        "tabular": linear_table_run(store, home),
        "text": sentiment_run(store), "image": shapes_run(store)})


def shapes_run(store: RunStore) -> str:
    """The small CNN on 150 generated shapes at 24 px, 8 epochs: it tells the shapes apart."""
    from core.tasks import get_task

    cfg = get_task("image").default_config("shapes").replace(
        data={"max_rows": 150}, model={"image_size": 24}, train={"epochs": 8, "batch_size": 16})
    return train_run(cfg, store)


def sentiment_run(store: RunStore) -> str:
    """The default text model (packaged MiniLM, linear probe then fine-tuning) on 100 sample
    reviews, 32 tokens, one epoch: small, but it reads sentiment words (about half a minute)."""
    from core.tasks.text import TextTask

    cfg = TextTask().default_config("reviews").replace(
        data={"max_rows": 100, "val_fraction": 0.3, "test_fraction": 0.2}, model={"max_length": 32},
        train={"batch_size": 16, "epochs": 1, "lr": 3e-4, "device": "cpu"})
    return train_run(cfg, store)


@pytest.fixture
def home(runs: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("LOUPE_HOME", runs["home"])
    return runs


ROW = {"size_m2": 50.0, "district": "hills", "floor": 2}


def _predict(run_id: str, row: dict) -> float:
    return float(load_predictor(run_id, RunStore(), "cpu").predict(pd.DataFrame([row]))["prediction"][0])


def test_table_counterfactual_reaches_the_target_with_the_closest_change(home: dict[str, str]) -> None:
    run = home["tabular"]
    base = _predict(run, ROW)
    target = base + 240  # about 20 m2 more at 12 per m2
    cf = table_counterfactual(run, ROW, target, editable=["size_m2"])
    assert cf.found and cf.direction == "above" and cf.original_prediction == pytest.approx(base)
    best = cf.solutions[0]
    assert [c["column"] for c in best["changes"]] == ["size_m2"]
    new = best["changes"][0]["new"]
    edited = {**ROW, "size_m2": new}
    assert _predict(run, edited) >= target and best["prediction"] == pytest.approx(_predict(run, edited))
    # closest: the analytic boundary of the fitted line, within one refinement step
    slope = _predict(run, {**ROW, "size_m2": 51.0}) - base
    boundary = ROW["size_m2"] + (target - base) / slope
    assert boundary <= new <= boundary + 6
    assert cf.model_calls >= 2 and cf.evaluations > cf.model_calls


def test_table_counterfactual_respects_editable_columns_ranges_and_direction(home: dict[str, str]) -> None:
    run = home["tabular"]
    base = _predict(run, ROW)
    cf = table_counterfactual(run, ROW, base + 250, editable=["district", "floor"])
    assert cf.found
    for solution in cf.solutions:
        assert {c["column"] for c in solution["changes"]} <= {"district", "floor"}
        edited = {**ROW, **{c["column"]: c["new"] for c in solution["changes"]}}
        assert _predict(run, edited) >= base + 250
    assert cf.solutions[0]["changes"][0]["new"] == "centre"
    down = table_counterfactual(run, ROW, base - 100, editable=["size_m2"])
    assert down.direction == "below" and down.found
    assert 25 <= down.solutions[0]["changes"][0]["new"] < ROW["size_m2"]  # the training range
    out_of_reach = table_counterfactual(run, ROW, base + 1e6, editable=["floor"])
    assert not out_of_reach.found and "No change" in out_of_reach.notices[0]
    with pytest.raises(LoupeError, match="not one of the model's inputs"):
        table_counterfactual(run, ROW, base, editable=["rooms"])
    with pytest.raises(LoupeError, match="No column may change"):
        table_counterfactual(run, ROW, base + 1, editable=[])


def test_effect_curves_equal_direct_model_calls(home: dict[str, str]) -> None:
    from core.explain.shap_tabular import raw_split

    run = home["tabular"]
    store = RunStore()
    val = raw_split(store, run, "val")
    curves = feature_effects(run, "size_m2", split="val", grid=9, ice_rows=4)
    assert curves.rows == len(val) and curves.numeric and len(curves.grid) == 9
    predictor = load_predictor(run, store, "cpu")
    for j in (0, 4, 8):
        frame = val[predictor.input_columns].assign(size_m2=curves.grid[j])
        direct = predictor.predict(frame)["prediction"].to_numpy()
        assert curves.partial_dependence[j] == pytest.approx(direct.mean(), rel=1e-5)
        for i, row in enumerate(curves.ice_rows):
            assert curves.ice[i, j] == pytest.approx(direct[row], rel=1e-5)
    again = feature_effects(run, "size_m2", split="val", grid=9, ice_rows=2, seed=3)
    assert np.allclose(again.partial_dependence, curves.partial_dependence)  # same cached outputs
    assert list(feature_effects(run, "district", grid=9).frame()["value"]) == ["centre", "harbour", "hills"]
    with pytest.raises(LoupeError, match="not one of the model's inputs"):
        feature_effects(run, "rooms")


def test_text_counterfactual_flips_the_model_and_is_minimal(home: dict[str, str]) -> None:
    run = home["text"]
    predictor = load_predictor(run, RunStore(), "cpu")
    empty_class = int(np.argmax(predictor.predict_proba([""])[0]))
    texts = ["The battery died after two days and support never answered my emails",
             "Lovely little cafe, friendly staff and the best cheesecake in town",
             "It arrived on time. Works as described, nothing more to say",
             "Terrible fit, the seams came apart on the first wash"]
    flippable = [t for t in texts if int(np.argmax(predictor.predict_proba([t])[0])) != empty_class]
    assert flippable, "the model gives every text the empty text's class; pick other texts"
    for edit in ("remove",):  # "mask": the CLI test below
        text = flippable[0]
        cf = text_counterfactual(run, text, edit=edit, max_evals=60)
        assert cf.found and cf.new_label != cf.original_label
        spans = word_spans(text)
        mask = predictor.tokenizer.mask_token
        edited = edit_text(text, spans, cf.positions, edit, mask)
        probs = predictor.predict_proba([edited])[0]
        assert predictor.labels[int(np.argmax(probs))] == cf.new_label  # verified by the model
        for keep in cf.positions:  # 1-minimal: restoring any one word undoes the flip
            fewer = [p for p in cf.positions if p != keep]
            if fewer:
                again = predictor.predict_proba([edit_text(text, spans, fewer, edit, mask)])[0]
                assert predictor.labels[int(np.argmax(again))] == cf.original_label
        assert cf.model_calls >= 3 and cf.evaluations >= len(spans)
        assert len(cf.word_values) == len(spans)


def test_text_counterfactual_masks_what_it_shows(home: dict[str, str]) -> None:
    predictor = load_predictor(home["text"], RunStore(), "cpu")
    text = "Ask Margaret Thornbury at margaret.thornbury@example.org about the refund, awful service"
    cf = find_counterfactual(predictor, text, max_evals=40)
    shown = json.dumps(cf.to_dict())
    assert "margaret.thornbury@example.org" not in shown and "Thornbury" not in shown
    with pytest.raises(LoupeError, match="empty"):
        find_counterfactual(predictor, "   ")
    with pytest.raises(LoupeError, match="Unknown edit"):
        find_counterfactual(predictor, "fine", edit="swap")
    with pytest.raises(LoupeError, match="tabular run"):
        text_counterfactual(home["tabular"], "fine")


def test_compare_edit_explains_both_sides_consistently(home: dict[str, str]) -> None:
    run = home["tabular"]
    result = compare_edit(run, ROW, {**ROW, "size_m2": 90.0})
    for expl, row in ((result.original, ROW), (result.edited, {**ROW, "size_m2": 90.0})):
        assert expl.prediction["value"] == pytest.approx(_predict(run, row), rel=1e-5)
        assert float(expl.base_value) + float(expl.total()) == pytest.approx(expl.prediction["value"],
                                                                             rel=1e-3)
    assert result.changed()
    shap_of = {name: e.frame().set_index("feature")["shap"] for name, e in
               (("original", result.original), ("edited", result.edited))}
    local = shap_of["edited"] - shap_of["original"]
    assert local.abs().idxmax() == "size_m2"  # the edited feature's attribution moved most


def test_cli_whatif(home: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from core.cli import main

    run = home["tabular"]
    row = json.dumps(ROW)
    assert main(["whatif", run, "--input", row, "--set", "size_m2=80"]) == 0
    out = capsys.readouterr().out
    assert "prediction moved by +" in out and "size_m2" in out
    assert main(["whatif", run, "--input", row, "--counterfactual", "--target",
                 str(_predict(run, ROW) + 120), "--editable", "size_m2", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["found"] and payload["solutions"][0]["changes"][0]["column"] == "size_m2"
    curves = tmp_path / "curves.csv"
    assert main(["whatif", run, "--feature", "floor", "--out", str(curves)]) == 0
    assert "partial_dependence" in pd.read_csv(curves).columns
    assert main(["whatif", run, "--input", row, "--set", "rooms=3"]) == 2
    assert "rooms" in capsys.readouterr().err
    assert main(["whatif", run, "--input", row, "--counterfactual"]) == 2
    assert "--target" in capsys.readouterr().err
    assert main(["whatif", home["text"], "--input", "fine", "--set", "a=1"]) == 2
    assert "--edited" in capsys.readouterr().err
    text = "Ask Margaret Thornbury at margaret.thornbury@example.org, awful service"
    assert main(["whatif", home["text"], "--input", text, "--counterfactual", "--max-evals", "40",
                 "--edit", "mask"]) == 0
    out = capsys.readouterr().out
    assert "model calls" in out and "margaret.thornbury@example.org" not in out


def test_image_counterfactual_occludes_regions_that_flip_the_model(home: dict[str, str],
                                                                   tmp_path: Path) -> None:
    from PIL import Image, ImageDraw

    from core.explain import explain
    from core.explain.image_regions import RegionImages
    from core.explain.shap_image import ImageModelFunction, mask_image
    from core.whatif.image import find_image_counterfactual

    run = home["image"]
    predictor = load_predictor(run, RunStore(), "cpu")
    fn = ImageModelFunction(predictor)
    tried = 0
    for i, (fill, shape) in enumerate([("red", "ellipse"), ("navy", "rectangle"), ("green", "polygon"),
                                       ("orange", "ellipse"), ("purple", "rectangle")]):
        picture = Image.new("RGB", (48, 48), "white")
        draw = ImageDraw.Draw(picture)
        if shape == "polygon":
            draw.polygon([(24, 6), (42, 42), (6, 42)], fill=fill)
        else:
            getattr(draw, shape)([8, 8, 40, 40], fill=fill)
        path = tmp_path / f"hand_{i}.png"
        picture.save(path)
        expl = explain(run, path, max_evals=80)
        crop, segments = expl.arrays["image"], expl.arrays["segments"]
        render = RegionImages(crop, mask_image(crop, expl.info["masker"])[0], segments)
        before = int(np.argmax(fn(crop[None].astype(np.float32))[0]))
        hidden = int(np.argmax(fn(render(np.zeros((1, render.regions))))[0]))
        if before == hidden:
            continue  # nothing can flip it: even the fully occluded picture keeps the class
        tried += 1
        cf = find_image_counterfactual(predictor, expl, max_regions=render.regions)
        assert cf.found and cf.new_label != cf.original_label
        z = np.ones(render.regions)
        z[cf.regions] = 0
        assert predictor.labels[int(np.argmax(fn(render(z[None]))[0]))] == cf.new_label
        assert np.array_equal(cf.image, render(z[None])[0].clip(0, 255).astype(np.uint8))
        assert 0 < cf.pixel_share <= 1 and cf.model_calls >= 2
        assert "image" not in cf.to_dict()
    assert tried, "every picture keeps its class when fully occluded; draw others"


def test_pinned_comparisons_persist_mask_and_reach_the_report(home: dict[str, str]) -> None:
    from core.export import build_html_report
    from core.whatif import pin_comparison, pinned_comparisons, unpin
    from core.whatif.pins import text_changes

    run = home["text"]
    original = "Call Margaret Thornbury on 0161 496 0732, the blender is wonderful"
    edited = original.replace("wonderful", "broken and useless")
    comparison = compare_edit(run, original, edited, max_evals=60)
    changes = text_changes(original, edited)
    assert changes == ["removed: wonderful", "added: broken and useless"]
    pin = pin_comparison(comparison, title="Margaret Thornbury's review", changes=changes)
    store = RunStore()  # a fresh store object: read back from the file, not from memory
    [back] = pinned_comparisons(run, store)
    assert back.id == pin.id and "Thornbury" not in back.title and back.changes == changes
    assert back.comparison.original.prediction == comparison.original.prediction
    assert back.comparison.edited.tokens == comparison.edited.tokens
    assert not any("0161" in t for t in back.comparison.original.tokens or [])
    assert back.headline() == pin.headline()
    html = build_html_report(run, store)
    import html as html_lib

    assert 'id="whatif"' in html and html_lib.escape(back.title) in html
    assert "removed: wonderful" in html and "the decision" in html
    assert "Thornbury" not in html and "496 0732" not in html
    assert 'id="whatif"' not in build_html_report(run, store, comparisons=[])
    assert unpin(pin.id, store) and not unpin(pin.id, store)
    assert pinned_comparisons(run, store) == []


def test_cli_whatif_pins_and_a_deleted_run_takes_its_pins(home: dict[str, str],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from core.cli import main
    from core.whatif import pin_comparison, pinned_comparisons

    run = home["tabular"]
    assert main(["whatif", run, "--input", json.dumps(ROW), "--set", "size_m2=70", "--pin",
                 "bigger flat", "--json"]) == 0
    pin_id = json.loads(capsys.readouterr().out)["pin_id"]
    assert main(["whatif", run, "--pins"]) == 0
    listed = capsys.readouterr().out
    assert pin_id in listed and "bigger flat" in listed and "→" in listed
    [pin] = pinned_comparisons(run)
    assert pin.changes == ["size_m2: 50.0 → 70.0"] and pin.comparison.changed()
    assert main(["whatif", run, "--unpin", "nope"]) == 2
    assert "--pins" in capsys.readouterr().err
    assert main(["whatif", run, "--unpin", pin_id]) == 0
    assert pinned_comparisons(run) == []
    # a pin belongs to its run: deleting the run deletes its pins, and only its own
    import dataclasses

    store = RunStore()
    keep = compare_edit(home["text"], "good", "bad", max_evals=20)
    pin_comparison(keep, store)
    doomed = store.create_run(RunConfig(task="text", name="doomed"), status="failed")
    pin_comparison(type(keep)(dataclasses.replace(keep.original, run_id=doomed),
                              dataclasses.replace(keep.edited, run_id=doomed)), store, "doomed")
    assert len(pinned_comparisons(doomed, store)) == 1
    store.delete_run(doomed)
    with store.connect() as con:
        assert con.execute("SELECT count(*) FROM pinned_comparisons WHERE run_id=?",
                           [doomed]).fetchone()[0] == 0
    assert len(pinned_comparisons(home["text"], store)) == 1


def test_occlude_box_blurs_or_greys_only_the_box() -> None:
    from PIL import Image

    from core.whatif.image import occlude_box

    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 255, (40, 60, 3), dtype=np.uint8))
    grey = np.asarray(occlude_box(image, (0.5, 0.25, 1.0, 0.75), "grey"))
    before = np.asarray(image)
    assert (grey[10:30, 30:60] == 128).all()
    assert (grey[:10] == before[:10]).all() and (grey[:, :30] == before[:, :30]).all()
    blurred = np.asarray(occlude_box(image, (0.0, 0.0, 0.5, 0.5), "blur"))
    assert blurred[:20, :30].std() < before[:20, :30].std() / 2 and (blurred[20:] == before[20:]).all()
    with pytest.raises(LoupeError, match="empty"):
        occlude_box(image, (0.2, 0.2, 0.2, 0.9))
    with pytest.raises(LoupeError, match="blur, grey"):
        occlude_box(image, (0, 0, 1, 1), "pixelate")


def test_text_and_image_edits_change_prediction_and_explanation_consistently(home: dict[str, str],
                                                                             tmp_path: Path) -> None:
    """Each side's prediction is the model's own; each side's attributions add up to its own
    output for the *original's* class; the edited words / the occluded box are what moved."""
    from PIL import Image, ImageDraw

    from core.whatif.image import occlude_box

    text_run = home["text"]
    predictor = load_predictor(text_run, RunStore(), "cpu")
    original = "Elena Marsh wrote: the kettle is excellent and I love it"
    edited = "Elena Marsh wrote: the kettle is terrible and I hate it"
    result = compare_edit(text_run, original, edited, max_evals=200)
    for expl, text in ((result.original, original), (result.edited, edited)):
        probs = predictor.predict_proba([text])[0]
        assert expl.prediction["confidence"] == pytest.approx(float(probs.max()), abs=1e-5)
        label = result.original.prediction["label"]
        assert label in expl.labels  # both sides explained for the original's class
        j, cls = expl.labels.index(label), predictor.labels.index(label)
        assert float(expl.base_value[j]) + float(expl.total()[j]) == pytest.approx(probs[cls], abs=2e-2)
        assert not any("Elena" in t or "Marsh" in t for t in expl.tokens)  # masked on both sides
    moved = result.edited.prediction["probabilities"][result.original.prediction["label"]] - \
        result.original.prediction["confidence"]
    column = f"shap_{result.original.prediction['label']}"
    change = result.edited.frame()[column].sum() - result.original.frame()[column].sum()
    assert change == pytest.approx(moved, abs=3e-2)  # the attributions moved as the output did

    image_run = home["image"]
    picture = Image.new("RGB", (48, 48), "white")
    ImageDraw.Draw(picture).ellipse([8, 8, 40, 40], fill="red")
    path = tmp_path / "circle.png"
    picture.save(path)
    covered = occlude_box(picture, (0.0, 0.0, 1.0, 1.0), "grey")
    result = compare_edit(image_run, path, covered, max_evals=80)
    image_predictor = load_predictor(image_run, RunStore(), "cpu")
    for expl, image in ((result.original, picture), (result.edited, covered)):
        confidence = float(image_predictor.predict([image])["confidence"][0])
        assert expl.prediction["confidence"] == pytest.approx(confidence, abs=1e-4)
        assert result.original.prediction["label"] in expl.labels
    assert not np.allclose(result.original.arrays["image"], result.edited.arrays["image"])


def test_counterfactual_summaries_say_what_changed(home: dict[str, str]) -> None:
    run = home["tabular"]
    cf = table_counterfactual(run, ROW, _predict(run, ROW) + 120, editable=["size_m2"])
    assert cf.found and cf.summary().startswith("Closest change: size_m2 50 → ")
    none = table_counterfactual(run, ROW, 1e9, editable=["floor"])
    assert not none.found and none.summary().startswith("No change found: no change of the editable")
    text = text_counterfactual(home["text"], "Ask Margaret Thornbury: awful, broken, useless", max_evals=60)
    assert "Thornbury" not in text.summary()
    expected = "Removing " if text.found else "No change found"
    assert text.summary().startswith(expected)
