"""Stage 3, audit: Great Expectations quality gate, claims registry, figures and reports."""
