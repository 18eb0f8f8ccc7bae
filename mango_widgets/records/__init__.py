"""Results on disk: one search record, atomic writes, PNG/NPZ/JSON, static plots, exports."""
