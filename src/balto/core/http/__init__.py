"""HTTP: a sans-IO router and message types (``router``), and the Trio/h11 connection shell."""
