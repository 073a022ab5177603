"""The writer: init, Run, and the threads of one process that carry a run's data to the store."""
