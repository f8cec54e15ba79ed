"""A "model" that is a pickle: never unpickled, refused with a clear error.

Every pickle here is armed: its ``__reduce__`` creates a marker file when it is loaded, and the
``marker`` fixture fails the test if that file ever exists. Loupe loads weights only from
safetensors; ``torch.load`` runs only with ``weights_only=True`` on files Loupe wrote itself (resume
checkpoints) or a package shipped (EfficientNet-Lite0); Hugging Face loads pass
``trust_remote_code=False``.

Paths tried: a local model folder given as ``model.name`` (text and image kinds) whose weights are a
pickle (``pytorch_model.bin``), a ``.pkl`` file given as the model, and a run artifact whose weights
were replaced by a pickle, loaded for prediction (core API and `loupe predict`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.config import RunConfig
from core.errors import LoupeError
from core.train import train
from tests.hostile.conftest import (
    assert_clear,
    assert_nothing_written,
    cli,
    marker_pickle,
    run_rows,
)


def _reviews_csv(tmp_path: Path) -> Path:
    words = ["great", "awful", "lovely", "broken"]
    path = tmp_path / "reviews.csv"
    path.write_text("text,label\n" + "".join(
        f"review {i} was {words[i % 4]},{['neg', 'pos'][i % 2]}\n" for i in range(30)))
    return path


def _text_folder(tmp_path: Path, marker: Path) -> Path:
    """A save_pretrained-looking BERT folder (real config and tokenizer) with pickle weights."""
    from core.models.text_models import packaged_minilm_dir

    folder = tmp_path / "evil-bert"
    folder.mkdir()
    for file in packaged_minilm_dir().iterdir():
        if file.is_file() and file.suffix not in (".safetensors", ".bin"):
            shutil.copy(file, folder / file.name)
    (folder / "pytorch_model.bin").write_bytes(marker_pickle(marker, torch_format=True))
    return folder


def _image_folder_model(tmp_path: Path, marker: Path) -> Path:
    from transformers import ViTConfig

    folder = tmp_path / "evil-vit"
    ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
              intermediate_size=32).save_pretrained(folder)
    (folder / "pytorch_model.bin").write_bytes(marker_pickle(marker, torch_format=True))
    return folder


def _text_cfg(tmp_path: Path, model: Path | str) -> RunConfig:
    return RunConfig(task="text").replace(data={"source": str(_reviews_csv(tmp_path))},
                                          model={"name": str(model), "max_length": 16},
                                          train={"epochs": 1, "max_steps": 1})


def _image_cfg(tmp_path: Path, model: Path | str) -> RunConfig:
    from tests.hostile.conftest import image_folder

    root = image_folder(tmp_path / "pets", {"cats": 6, "dogs": 6})
    return RunConfig(task="image").replace(data={"source": str(root)},
                                           model={"name": str(model), "image_size": 32},
                                           train={"epochs": 1, "max_steps": 1})


# --- a pickle as the model folder's weights --------------------------------------------------
@pytest.mark.parametrize("kind", ["text", "image"])
def test_model_folder_with_pickle_weights_is_never_unpickled(kind: str, tmp_path: Path, marker: Path,
                                                             loupe_home: Path) -> None:
    cfg = _text_cfg(tmp_path, _text_folder(tmp_path, marker)) if kind == "text" \
        else _image_cfg(tmp_path, _image_folder_model(tmp_path, marker))
    with pytest.raises(LoupeError) as err:
        train(cfg)
    assert not marker.exists()
    assert run_rows(loupe_home) == 0
    assert_clear(str(err.value), "safetensors")
    assert_nothing_written(loupe_home)


def test_pickle_model_folder_through_the_cli_process(tmp_path: Path, marker: Path) -> None:
    home = tmp_path / "home"
    cfg = _text_cfg(tmp_path, _text_folder(tmp_path, marker))
    proc = cli(home, "train", "text", "--data", cfg.data.source, "--model", cfg.model.name,
               "--max-length", "16", "--max-steps", "1")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "safetensors" in proc.stderr, proc.stderr
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["text", "image"])
def test_pickle_file_as_the_model(kind: str, tmp_path: Path, marker: Path, loupe_home: Path) -> None:
    evil = tmp_path / "model.pkl"
    evil.write_bytes(marker_pickle(marker))
    cfg = (_text_cfg if kind == "text" else _image_cfg)(tmp_path, evil)
    with pytest.raises(LoupeError) as err:
        train(cfg)
    assert_clear(str(err.value), "model.pkl")
    assert_nothing_written(loupe_home)


# --- a pickle in place of a run's weights, loaded for prediction ------------------------------
@pytest.fixture
def tabular_run(store) -> str:
    from core.tasks import get_task

    cfg = get_task("tabular").default_config("diabetes").replace(
        model={"name": "mlp"}, train={"epochs": 1, "max_steps": 1})  # the safetensors path
    return train(cfg, store).run_id


def test_tabular_artifact_replaced_by_a_pickle(tabular_run: str, store, marker: Path,
                                               tmp_path: Path, run_cli) -> None:
    from core.predict import load_predictor

    weights = store.artifact_path(tabular_run) / "model.safetensors"
    weights.write_bytes(marker_pickle(marker, torch_format=True))
    with pytest.raises(LoupeError) as err:
        load_predictor(tabular_run, store)
    assert_clear(str(err.value), "model.safetensors")
    code, cli_err = run_cli("predict", tabular_run, "--data", str(tmp_path / "whatever.csv"))
    assert code == 2, cli_err
    assert_clear(cli_err, "damaged or not a Loupe tabular model")
    assert not marker.exists()


def test_text_artifact_with_only_pickle_weights(store, marker: Path, tmp_path: Path) -> None:
    """A run row whose model folder holds a pytorch_model.bin instead of safetensors."""
    import json

    from core.predict import load_predictor

    folder = _text_folder(tmp_path, marker)
    (folder / "loupe_text.json").write_text(json.dumps({"task": "text", "labels": ["neg", "pos"],
                                                        "max_length": 16}))
    run_id = store.create_run(RunConfig(task="text"))
    store.add_artifact(run_id, "model", folder)
    store.finish_run(run_id, {})
    with pytest.raises(LoupeError):
        load_predictor(run_id, store)
    assert not marker.exists()
