"""The reader: Store, the file cache, listings and the runs table. The writer never imports it."""
