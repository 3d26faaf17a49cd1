"""A small Redis client for Trio: the sans-IO RESP codec (:mod:`.protocol`), the URL
(:mod:`.url`) and the Trio shell (:mod:`.client`)."""
