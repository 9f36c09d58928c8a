"""wirenews stages: each module holds pure functions over plain data plus a thin Beam wrapper."""
