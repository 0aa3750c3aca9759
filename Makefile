# The two commands of the README: `make demo` and `make test`. Everything they need is
# installed here, into .venv, from the package registries.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LAB_SOURCES := $(wildcard labextension/src/*.ts labextension/style/* labextension/package.json \
                 labextension/package-lock.json labextension/tsconfig.json)

export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: install demo test lint chromium bench clean dist

$(STAMP): pyproject.toml $(LAB_SOURCES)
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -U pip
	rm -rf hpt_magic/labextension
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

# Browser tests drive Debian's Chromium (Playwright's own browser download does not work here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

demo: install
	mkdir -p build
	rm -f build/demo_studies.db build/demo_studies.db-wal build/demo_studies.db-shm
	HPT_MAGIC_STORAGE=build/demo_studies.db $(BIN)/jupyter nbconvert --to notebook --execute \
	  demo.ipynb --output-dir build --output demo.ipynb --ExecutePreprocessor.timeout=900
	$(BIN)/jupyter nbconvert --to html build/demo.ipynb --output-dir build --output demo.html
	@echo "wrote build/demo.ipynb and build/demo.html"

lint: install
	$(BIN)/ruff check hpt_magic tests benchmarks
	$(BIN)/lint-imports

# Two workers: the browser tests on one, the other files spread over both (tests/conftest.py).
test: install chromium lint
	$(BIN)/python -m pytest -n 2

bench: install
	$(BIN)/python -m pip install -q -e ".[test,bench]"
	# Without their numpy pins (see the bench extra in pyproject.toml).
	$(BIN)/python -m pip install -q --no-deps dehb==0.1.2 hebo==0.3.6
	@echo "see benchmarks/README.md for the benchmark commands"

# Release artefacts in build/dist: sdist and wheel from a copy of the working tree without any
# earlier bundle, so the extension inside is a fresh production build (no source maps, no
# build log with local paths). node_modules is hard-linked into the copy to skip npm install.
DIST_SRC := build/dist-src
dist: install
	rm -rf $(DIST_SRC) build/dist
	mkdir -p $(DIST_SRC)
	tar --exclude=./.venv --exclude=./build --exclude=./.git --exclude=./hpt_magic/labextension \
	  --exclude=./labextension/lib --exclude=./labextension/tsconfig.tsbuildinfo \
	  --exclude=./labextension/node_modules --exclude='__pycache__' --exclude='*.db' \
	  -cf - . | tar -xf - -C $(DIST_SRC)
	cp -al labextension/node_modules $(DIST_SRC)/labextension/node_modules
	cd $(DIST_SRC) && PATH="$(CURDIR)/$(BIN):$$PATH" $(CURDIR)/$(BIN)/python -m build --wheel \
	  --outdir $(CURDIR)/build/dist
	# The sdist ships the bundle just built (skip-if-exists), not node_modules.
	rm -rf $(DIST_SRC)/labextension/node_modules
	cd $(DIST_SRC) && $(CURDIR)/$(BIN)/python -m build --sdist --outdir $(CURDIR)/build/dist
	rm -rf $(DIST_SRC)
	@ls -l build/dist

clean:
	rm -rf build $(VENV) hpt_magic/labextension labextension/node_modules labextension/lib \
	  labextension/tsconfig.tsbuildinfo
