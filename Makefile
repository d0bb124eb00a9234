# The two commands of the README. Each installs what it needs first.
.PHONY: demo test lint bench

demo:
	scripts/bootstrap.sh
	scripts/fetch_data.sh || echo "make demo: MNIST could not be fetched; the demo offers the MNIST homeworks once scripts/fetch_data.sh has run"
	.venv/bin/dlgrade portal demo

test:
	scripts/test.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

bench:
	.venv/bin/python bench/bench_conv.py
	.venv/bin/python bench/bench_grading.py
	.venv/bin/python bench/bench_mnist_numpy.py
	.venv/bin/python bench/bench_mnist_torch.py
	.venv/bin/python bench/bench_workers.py
	.venv/bin/python bench/bench_reference_models.py
	.venv/bin/python bench/bench_gradebook.py
