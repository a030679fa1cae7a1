"""requirements.lock pins every package `make setup` installs, within pyproject.toml's ranges; environment.yml
carries the same pins; `make setup` installs from the lock."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("lock", ROOT / "tools" / "lock.py")
lock = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lock)


def test_lock_and_environment_match_pyproject():
    done = subprocess.run([sys.executable, "tools/lock.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_every_direct_requirement_is_pinned_in_environment_yml_at_the_locked_version():
    pins = lock.read_lock()
    listed = dict(re.findall(r"^  - ([a-z0-9-]+)==(\S+)$", (ROOT / "environment.yml").read_text(), re.M))
    direct = {lock.canonicalize_name(requirement.name) for requirement in lock.direct_requirements()}
    assert set(listed) == direct
    assert all(pins[name] == version for name, version in listed.items())


def test_a_pin_outside_pyproject_or_a_stale_environment_is_reported(tmp_path):
    pins = lock.read_lock()
    stale = tmp_path / "requirements.lock"
    stale.write_text(lock.lock_text({**pins, "duckdb": "0.9.2"}))
    assert lock.problems(stale) == ["requirements.lock pins duckdb==0.9.2, outside pyproject's duckdb>=1.1"]
    environment = tmp_path / "environment.yml"
    environment.write_text((ROOT / "environment.yml").read_text().replace(f"pandas=={pins['pandas']}", "pandas>=2.2"))
    assert lock.problems(environment=environment) == ["environment.yml does not carry requirements.lock's pins"]


def test_make_setup_installs_the_extras_the_lock_was_made_for_from_the_lock():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^EXTRAS := (.+)$", makefile, re.M).group(1) == ",".join(lock.EXTRAS)
    assert "pip install --quiet -c $(LOCK) -e '.[$(EXTRAS)]'" in makefile
