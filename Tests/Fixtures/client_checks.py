"""The checks the mlflow client fixtures share: `check` and `raises` print `ok <name>` or
remember the failure; `finish` prints the failures and exits 1 when there are any."""
import sys

from mlflow.exceptions import MlflowException

failures = []


def check(name, condition, detail=""):
    if condition:
        print(f"ok {name}")
    else:
        failures.append(f"{name}: {detail}")


def raises(name, code, call):
    try:
        call()
    except MlflowException as error:
        check(name, error.error_code == code, f"raised {error.error_code}: {error.message}")
        return
    check(name, False, f"raised nothing, expected {code}")


def finish():
    if failures:
        print("\n".join("FAILED " + failure for failure in failures))
        sys.exit(1)
