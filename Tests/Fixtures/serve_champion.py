"""Serves a registered model with `mlflow models serve -m models:/NAME@ALIAS` against the
tracking server in MLFLOW_TRACKING_URI, asks it to predict, and stops it (its whole process
group), bounded in time. Prints `predictions: [...]`; exits non-zero with the server's log
when it does not serve.

    python serve_champion.py NAME ALIAS PORT
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

from sklearn.datasets import load_digits

name, alias, port = sys.argv[1], sys.argv[2], sys.argv[3]
bin_folder = os.path.dirname(sys.executable)
mlflow = os.path.join(bin_folder, "mlflow")
# mlflow starts its scoring server (uvicorn) by name: the venv's programs come first.
environment = dict(os.environ, PATH=bin_folder + os.pathsep + os.environ.get("PATH", ""))
log = tempfile.NamedTemporaryFile(prefix="models-serve-", suffix=".log", delete=False)
server = subprocess.Popen(
    [mlflow, "models", "serve", "-m", f"models:/{name}@{alias}", "--env-manager", "local",
     "-h", "127.0.0.1", "-p", port],
    stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=environment)
base = f"http://127.0.0.1:{port}"
try:
    deadline = time.monotonic() + 120
    while True:
        if server.poll() is not None or time.monotonic() > deadline:
            log.flush()
            sys.exit("mlflow models serve did not start:\n" + open(log.name).read()[-3000:])
        try:
            with urllib.request.urlopen(base + "/ping", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    digits = load_digits()
    request = urllib.request.Request(
        base + "/invocations", data=json.dumps({"inputs": digits.data[:5].tolist()}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        predictions = json.load(answer)["predictions"]
    print("predictions:", [int(p) for p in predictions], "truth:", digits.target[:5].tolist())
finally:
    try:
        os.killpg(server.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # it had ended
    server.wait()
