"""The corruption benchmark behind `robust-cli benchmark`: evaluation, the MNIST default job, reports, figures."""
