"""Operations on a store: compaction, importers, the command line and the demo."""
