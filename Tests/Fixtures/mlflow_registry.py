"""MLflow's model registry through the unmodified mlflow client against a live server
(MLFLOW_TRACKING_URI): registering runs' and logged models' models, loading them back from
models:/ URIs, tags, stages, descriptions, renames, deletes and searches. Written against
MLflow 3.17's own server (`mlflow server`, where every check passes) and run against hpod.
(MLflow's server leaves a version's model_id out; hpod gives it.) Prints `ok <name>` per check, and exits 1 with the failures listed when any fails.
"""

import os
import tempfile
import uuid

import warnings

import mlflow
import numpy as np
from sklearn.linear_model import LogisticRegression
from client_checks import check, finish, raises

warnings.simplefilter("ignore", FutureWarning)  # stages are deprecated, and still served
client = mlflow.MlflowClient()


def predicts(uri):
    return list(mlflow.pyfunc.load_model(uri).predict(X)) == list(expected)


X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.2, 0.1], [0.9, 0.8]])
y = np.array([0, 1, 0, 1, 0, 1])
tag = uuid.uuid4().hex[:8]
a, b, c = f"reg-{tag}-a", f"reg-{tag}-b", f"reg-{tag}-c"

# A run made outside any study logs a model (MLflow 3: a logged model) and a plain MLmodel folder.
mlflow.set_experiment(f"registry-{tag}")
with mlflow.start_run() as run:
    model = LogisticRegression().fit(X, y)
    expected = model.predict(X)
    info = mlflow.sklearn.log_model(model, name="model")
    with tempfile.TemporaryDirectory() as folder:
        mlflow.sklearn.save_model(model, os.path.join(folder, "plain"))
        mlflow.log_artifacts(os.path.join(folder, "plain"), "plain")
run_id = run.info.run_id

# register_model from runs:/ (the logged model's), from models:/m-<id>, from a run's MLmodel folder.
v1 = mlflow.register_model(f"runs:/{run_id}/model", a)
check("runs uri registers the logged model", v1.version == "1" and v1.source == f"models:/{info.model_id}"
      and v1.run_id == run_id and v1.model_id in (None, info.model_id) and v1.status == "READY", v1)
check("download uri", client.get_model_version_download_uri(a, "1")
      == client.get_logged_model(info.model_id).artifact_location, client.get_model_version_download_uri(a, "1"))
check("models:/NAME/VERSION loads", predicts(f"models:/{a}/1"))
client.set_registered_model_alias(a, "champion", "1")
check("models:/NAME@ALIAS loads", predicts(f"models:/{a}@champion"))
v2 = mlflow.register_model(f"models:/{info.model_id}", a)
check("models uri registers", v2.version == "2" and v2.run_id == run_id and v2.model_id in (None, info.model_id), v2)
v3 = mlflow.register_model(f"runs:/{run_id}/plain", a, tags={"kind": "plain"})
check("run folder registers", v3.version == "3" and v3.source.endswith(f"{run_id}/artifacts/plain")
      and v3.tags == {"kind": "plain"}, v3)
check("models:/NAME/latest loads", predicts(f"models:/{a}/latest"))
raises("version of an unknown model", "RESOURCE_DOES_NOT_EXIST",
       lambda: client.create_model_version(f"reg-{tag}-none", f"runs:/{run_id}/plain", run_id))

# Registered models: tags kept on create, set and delete, description, rename, delete.
client.create_registered_model(b, tags={"team": "x", "tier": "1"}, description="first")
got = client.get_registered_model(b)
check("create keeps tags", got.tags == {"team": "x", "tier": "1"} and got.description == "first", got)
client.set_registered_model_tag(b, "team", "y")
client.delete_registered_model_tag(b, "tier")
client.delete_registered_model_tag(b, "never-set")
check("model tags", client.get_registered_model(b).tags == {"team": "y"}, client.get_registered_model(b).tags)
client.update_registered_model(b, description="second")
check("model description", client.get_registered_model(b).description == "second")
client.rename_registered_model(b, c)
check("rename", client.get_registered_model(c).tags == {"team": "y"})
raises("old name gone", "RESOURCE_DOES_NOT_EXIST", lambda: client.get_registered_model(b))
raises("rename onto a model", "RESOURCE_ALREADY_EXISTS", lambda: client.rename_registered_model(c, a))
raises("create twice", "RESOURCE_ALREADY_EXISTS", lambda: client.create_registered_model(c))

# Versions: description, tags, stages, latest versions.
client.update_model_version(a, "1", description="the first")
client.set_model_version_tag(a, "1", "checked", "yes")
client.set_model_version_tag(a, "1", "gone", "soon")
client.delete_model_version_tag(a, "1", "gone")
got = client.get_model_version(a, "1")
check("version description and tags", got.description == "the first" and got.tags == {"checked": "yes"}
      and got.aliases == ["champion"], got)
client.transition_model_version_stage(a, "1", "production")
client.transition_model_version_stage(a, "2", "Production", archive_existing_versions=True)
stages = {v.version: v.current_stage for v in client.search_model_versions(f"name = '{a}'")}
check("stages", stages == {"1": "Archived", "2": "Production", "3": "None"}, stages)
latest = client.get_latest_versions(a, stages=["Production"])
check("latest in a stage", [v.version for v in latest] == ["2"], latest)
latest = {v.current_stage: v.version for v in client.get_latest_versions(a)}
check("latest per stage", latest == {"None": "3", "Production": "2", "Archived": "1"}, latest)
raises("unknown stage", "INVALID_PARAMETER_VALUE", lambda: client.transition_model_version_stage(a, "1", "Prod"))

# Searches: filters, order, pages.
names = [m.name for m in client.search_registered_models(f"name LIKE 'reg-{tag}-%'", order_by=["name DESC"])]
check("models by name, ordered", names == [c, a], names)
page = client.search_registered_models(f"name LIKE 'reg-{tag}-%'", max_results=1)
rest = client.search_registered_models(f"name LIKE 'reg-{tag}-%'", max_results=1, page_token=page.token)
check("model pages", [m.name for m in page] == [a] and [m.name for m in rest] == [c] and page.token, (page, rest))
check("models by tag", [m.name for m in client.search_registered_models(f"tags.team = 'y' AND name LIKE 'reg-{tag}%'")]
      == [c])
versions = client.search_model_versions(f"name = '{a}'", order_by=["version_number ASC"], max_results=2)
check("versions ordered and paged", [v.version for v in versions] == ["1", "2"] and versions.token, versions)
more = client.search_model_versions(f"name = '{a}'", order_by=["version_number ASC"], max_results=2,
                                    page_token=versions.token)
check("versions next page", [v.version for v in more] == ["3"] and not more.token, more)
found = client.search_model_versions(f"run_id = '{run_id}' AND tags.kind = 'plain'")
check("versions by run and tag", [v.version for v in found] == ["3"], found)
raises("bad order key", "INVALID_PARAMETER_VALUE", lambda: client.search_model_versions(f"name = '{a}'", order_by=["size"]))

# Deletes: a deleted version's number is not given again; a deleted model is gone.
client.delete_model_version(a, "3")
raises("deleted version", "RESOURCE_DOES_NOT_EXIST", lambda: client.get_model_version(a, "3"))
v4 = client.create_model_version(a, f"models:/{info.model_id}", run_id, model_id=info.model_id)
check("numbers not reused", v4.version == "4", v4)
raises("a logged model's source needs its model_id", "INVALID_PARAMETER_VALUE",
       lambda: client.create_model_version(a, f"models:/{info.model_id}", run_id))
raises("a run's source needs its run_id", "INVALID_PARAMETER_VALUE",
       lambda: client.create_model_version(a, f"runs:/{run_id}/plain", "0123456789abcdef0123456789abcdef"))
raises("a relative source", "INVALID_PARAMETER_VALUE",
       lambda: client.create_model_version(a, f"{v3.source}/../../..", run_id))
raises("a local path", "INVALID_PARAMETER_VALUE", lambda: client.create_model_version(a, "/etc", run_id))
copy = client.create_model_version(a, f"models:/{a}/2")
check("a version of a version", copy.source == f"models:/{a}/2" and copy.run_id == run_id
      and copy.model_id in (None, info.model_id) and client.get_model_version_download_uri(a, copy.version)
      == client.get_model_version_download_uri(a, "2"), copy)
client.delete_registered_model(c)
raises("deleted model", "RESOURCE_DOES_NOT_EXIST", lambda: client.get_registered_model(c))

finish()
