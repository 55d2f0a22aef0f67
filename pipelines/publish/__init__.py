"""Stage 4, publish: build files, atomic publish, history, rollback, the build lock."""
