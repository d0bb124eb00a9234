# The two commands of the README. Each installs what it needs first.
.PHONY: demo test lint bench validate

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

# Every assignment's solution, starter and mutants graded at 5 submission seeds: the
# suite does this for the seven unit-check homeworks, and for the three MNIST ones at one
# seed (five would take CI past its limit). About 2 hours on a 2-core host.
validate:
	for a in assignments/*/; do .venv/bin/dlgrade assignment validate $$a --seeds 5 || exit 1; done
