"""Studies built on the core: epoch tracking, specializations, population search, several optima, closed loop."""
