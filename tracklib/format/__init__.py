"""The format in code: schemas, paths, record rows, ids, errors and the reader rules. Pure: no I/O."""
