"""The Train page in AppTest: it renders, refuses a bad spec with a clear message and queues
nothing; Create offers the library's adapters of its engine with a weight slider."""

from __future__ import annotations

import json

from studio.tables import Adapter
from studio.ui.plain import shown


def no_errors(app) -> None:
    assert not app.exception, [e.value for e in app.exception]


def test_train_page_renders_and_a_nameless_run_is_refused(app, service):
    app.run()
    app.switch_page("views/train.py").run()
    no_errors(app)
    assert [t.value for t in app.title] == ["Train"]
    [b for b in app.button if b.label == "Train"][0].click().run()
    no_errors(app)
    assert any("adapter name ''" in shown(e.value) for e in app.error), [e.value for e in app.error]
    assert service.jobs.list() == []


def test_create_offers_the_engine_s_adapters_and_sends_name_and_weight(app, service, tmp_path):
    with service.db.write() as session:
        session.add(Adapter(name="mine", engine="fake", base_model="m", base_digest="b" * 64, dataset_digest="d" * 64,
                            weights_digest="w" * 64, steps=3, rank=4, learning_rate=1e-4, loss_curve="[1, 0.5]",
                            info="{}", folder="mine"))
    folder = service.adapters.root / "mine"
    folder.mkdir(parents=True)
    (folder / "pytorch_lora_weights.safetensors").write_bytes(b"x")
    app.run()
    no_errors(app)
    picker = app.selectbox(key="create-adapter")
    assert picker.options == ["(none)", "mine"]
    picker.set_value("mine")
    app.slider(key="create-adapter-weight").set_value(0.6)
    app.text_area[0].set_value("dreamy")
    [b for b in app.button if b.label == "Generate"][0].click().run()
    no_errors(app)
    (job,) = service.jobs.list()
    spec = json.loads(job.spec)
    assert spec["request"]["lora"] == str(folder) and spec["request"]["lora_weight"] == 0.6
    assert spec["adapter"] == {"name": "mine", "weights_digest": "w" * 64, "base_digest": "b" * 64}
