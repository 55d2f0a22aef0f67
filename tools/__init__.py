"""Developer tools run by make (benchmarks, synthetic data): not installed with the product and not
part of the build fingerprint."""
